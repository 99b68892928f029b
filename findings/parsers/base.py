"""The normalised shape every parser returns. Pure Python: no Django here.

A parser is a function ``parse(document) -> ParsedScan`` that takes the
already-decoded JSON document (dict, list or None) and returns frozen
dataclasses (findings: msgspec Structs). Anything it cannot understand raises :class:`ParseError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import msgspec


class ParseError(ValueError):
    """The input is not a report of the expected format.

    The message names what was expected and what was found, e.g.
    ``"trivy: expected an object with 'Results' or a legacy list, found a string"``.
    """


@dataclass(frozen=True)
class ImageRef:
    """An image reference normalised by Docker's rules.

    ``registry`` defaults to ``docker.io``; official images get ``library/``.
    ``tag`` and ``digest`` are empty strings when unknown; a digest always
    carries its algorithm prefix (``sha256:``).
    """

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """``registry/repository`` (no tag, no digest)."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


class ParsedFinding(msgspec.Struct, frozen=True, gc=False):
    """One vulnerability in one package version, merged over all its locations.

    A msgspec Struct, not a dataclass: a report holds tens of thousands, and a Struct is
    built in C and takes about half the memory. Frozen and compared by value
    all the same; ``msgspec.structs.replace`` makes a changed copy."""

    vulnerability_id: str
    package: str
    installed_version: str
    package_type: str = "unknown"
    """Ecosystem: deb, rpm, apk, npm, pypi, maven, gem, golang, cargo,
    composer, nuget, binary, file, ... or 'unknown'."""
    severity: str = "unknown"
    """One of SEVERITIES, the severity the scanner itself chose."""
    fixed_versions: tuple[str, ...] = ()
    """Empty when there is no fix; a comma list becomes several entries."""
    cvss_score: float | None = None
    cvss_vector: str = ""
    title: str = ""
    description: str = ""
    links: tuple[str, ...] = ()
    vendor_status: str = ""
    """Trivy's Status (affected, fixed, will_not_fix, end_of_life, ...) or ''."""
    locations: tuple[str, ...] = ()
    """Paths, layers or Trivy targets where the package was found."""
    published_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.vulnerability_id, self.package, self.installed_version)


@dataclass(frozen=True)
class Workload:
    """A Kubernetes workload an image runs in (Trivy k8s, Trivy Operator): where it
    came from, for a later admission/inventory view. Empty strings when unknown."""

    namespace: str = ""
    kind: str = ""
    name: str = ""
    container: str = ""
    cluster: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class ParsedScan:
    """One report: which image was scanned, by what, and what it found."""

    source: str
    """The parser slug: aqua, trivy, trivy-k8s, trivy-operator, harbor, grype, generic."""
    image: ImageRef | None
    """None when the report does not name an image (a Trivy tar scan)."""
    findings: tuple[ParsedFinding, ...] = ()
    scanner: str = ""
    """Scanner name and version, e.g. 'Trivy 0.56.2'."""
    scan_id: str = ""
    """The scanner's own id for this scan, when it has one."""
    scanned_at: datetime | None = None
    os: str = ""
    """Operating system of the image, e.g. 'alpine 3.20.3'."""
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    """Small format-specific facts worth keeping (e.g. Aqua's disallowed flag)."""
    failure: str = ""
    """Why the report itself says the scan failed or is incomplete ('' when it is a
    complete, successful scan). Such a scan is kept but is no evidence: it closes,
    reopens and verifies nothing."""
    workloads: tuple[Workload, ...] = ()
    """The Kubernetes workloads the image was found in (multi-image formats only)."""
    refused: int = 0
    """How many findings of the report were refused at the parser boundary
    (``findings.parsers.screen``): a scan with refused findings is no evidence of absence."""
    refusals: tuple[str, ...] = ()
    """Why, for the first few of them, each value shown escaped."""
    witness_scope: str = ""
    """'' when the credential that delivered the report speaks for its format; else the
    source of that credential (``auto``), under which its witness key is namespaced
    (``auto:trivy:trivy``): it can close only what reports through that credential listed."""

    @property
    def scanner_key(self) -> str:
        """Which scanner this is, for evidence: the source and the scanner's name without
        its version ("trivy:trivy", "aqua:aqua", "harbor:trivy"), so that an upgraded
        scanner is still the same witness; prefixed by ``witness_scope`` when set."""
        name = self.scanner.strip().split(" ", 1)[0].lower()
        key = f"{self.source}:{name}" if name else self.source
        return f"{self.witness_scope}:{key}" if self.witness_scope else key
