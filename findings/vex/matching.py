"""Does a VEX statement speak of a finding? Pure: no Django, no database.

A statement matches a finding when one of its ids (the vulnerability id or an alias)
is the finding's vulnerability id, ignoring case, and one of its products matches:

- an image: a ``pkg:oci`` purl whose version is a digest the finding's tag stream has or
  had (the digests of its scans), or one without a version whose ``repository_url``
  names the finding's repository (registry and name normalised as runtimes do:
  ``docker.io``, ``index.docker.io`` and ``registry-1.docker.io`` are one registry).
  A ``repository_url`` beside a digest must name the repository too. A ``pkg:oci``
  purl with neither a digest nor a repository_url names no registry: it matches nothing;
- a package: a purl whose type is the finding's ecosystem (``parsers/ecosystems.py``;
  any when the scanner did not say), whose name (with its namespace, for the types
  that spell it into the package name: Go modules, Maven, npm scopes) is the finding's
  package, and whose version, when it has one, is the installed version (a purl's
  ``epoch`` qualifier read as deb/rpm write it, ``1:2.3``). Other qualifiers (arch,
  distro) are not compared: a finding does not record them. This is go-vex's
  ``PurlMatches`` (openvex/go-vex v0.2.7, pkg/vex/vex.go) with the finding as the
  scanned component.

A product with subcomponents matches when the product matches the image AND a
subcomponent matches the package: "this image is not affected through this package".
A package product with subcomponents names a dependency path Remediator does not
record, so it matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from packageurl import PackageURL

from findings.parsers.ecosystems import package_type_from_purl
from findings.parsers.images import normalize_digest, try_image_reference

IMAGE_TYPES = frozenset({"oci", "docker"})
"""purl types naming an image (``docker`` is read as ``oci``, as ecosystems.py does)."""
_JOINED = {"golang": "/", "maven": ":", "npm": "/", "composer": "/", "swift": "/"}
"""Ecosystems whose package names hold the purl namespace: namespace + joiner + name."""


@dataclass(frozen=True)
class FindingTarget:
    """What a statement is compared with: one finding and its image."""

    vulnerability_id: str
    repository: str
    """"registry/name", e.g. "docker.io/library/alpine"."""
    digests: frozenset[str]
    """Digests of the scans of the finding's tag (the image it had and has)."""
    package: str
    installed_version: str
    package_type: str = "unknown"


def _purl(text: str) -> PackageURL | None:
    if not text.startswith("pkg:"):
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def image_matches(product: str, target: FindingTarget) -> bool:
    purl = _purl(product)
    if purl is None or purl.type.lower() not in IMAGE_TYPES:
        return False
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    repository_url = unquote(str(qualifiers.get("repository_url", ""))).strip()
    if repository_url:
        ref = try_image_reference(repository_url.split("://", 1)[-1])
        if ref is None or ref.name != target.repository:
            return False
    version = unquote(purl.version or "")
    if version:
        digest = normalize_digest(version)
        return bool(digest) and digest in target.digests
    return bool(repository_url)


def _names(purl: PackageURL, ecosystem: str) -> set[str]:
    name = (purl.name or "").lower()
    names = {name}
    namespace = (purl.namespace or "").lower()
    if namespace:
        names.add(f"{namespace}{_JOINED.get(ecosystem, '/')}{name}")
        names.add(f"{namespace}/{name}")
    return names


def package_matches(component: str, target: FindingTarget) -> bool:
    purl = _purl(component)
    if purl is None or purl.type.lower() in IMAGE_TYPES:
        return False
    ecosystem = package_type_from_purl(component)
    if target.package_type not in ("", "unknown") and ecosystem != target.package_type:
        return False
    if target.package.lower() not in _names(purl, ecosystem):
        return False
    if not purl.version:
        return True
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    epoch = str(qualifiers.get("epoch", "")).strip()
    version = f"{epoch}:{purl.version}" if epoch and epoch != "0" else purl.version
    installed = target.installed_version
    return installed in (version, purl.version) or installed == f"0:{purl.version}"


def product_matches(product: str, subcomponents: Iterable[str], target: FindingTarget) -> bool:
    subcomponents = tuple(subcomponents)
    if subcomponents:
        return image_matches(product, target) and any(
            package_matches(sub, target) for sub in subcomponents
        )
    return image_matches(product, target) or package_matches(product, target)


def statement_matches(ids: Iterable[str], products: Iterable[dict], target: FindingTarget) -> bool:
    """``products``: ``[{"id": ..., "subcomponents": [...]}]`` as stored."""
    wanted = target.vulnerability_id.upper()
    if not any(i.upper() == wanted for i in ids):
        return False
    return any(
        product_matches(str(p.get("id", "")), p.get("subcomponents") or (), target)
        for p in products
        if isinstance(p, dict)
    )
