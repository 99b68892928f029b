"""Anchore Grype JSON (``grype -o json``). See FORMATS.md section 5."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, Raw

from .base import ImageRef, ParsedFinding, ParsedScan
from .fields import as_dict, dicts, is_object, text, texts, unique, wrong_shape
from .images import normalize_digest, try_image_reference
from .normalize import (
    cvss_score,
    merge_findings,
    normalize_severity,
    package_type_from_purl,
    package_type_from_trivy,
    split_versions,
)
from .typed import Doc, TypedFormat, objects

SOURCE = "grype"
_PLACEHOLDERS = frozenset({"redacted", "<redacted>", "[redacted]", "***"})


# What the parser reads of a report (typed decoding, ``typed.py``): the image's layers,
# manifest and config are never decoded, the matches one at a time.
class GrypeTarget(Doc):
    userInput: Any = UNSET
    imageID: Any = UNSET
    manifestDigest: Any = UNSET
    tags: Any = UNSET
    repoDigests: Any = UNSET


class GrypeSource(Doc):
    target: GrypeTarget | str | None = UNSET


class GrypeReport(Doc):
    matches: list[Raw] | None = UNSET  # decoded one at a time (typed.objects)
    source: GrypeSource | None = UNSET
    distro: Any = UNSET
    descriptor: Any = UNSET


TYPED = TypedFormat(GrypeReport, lambda report: "matches" in report)


def parse(document: object) -> ParsedScan:
    if not is_object(document) or "matches" not in document:
        raise wrong_shape(SOURCE, "an object with 'matches'", document)
    matches = document.get("matches")
    if matches is not None and not isinstance(matches, list):
        raise wrong_shape(SOURCE, "'matches' to be a list", matches)
    target = as_dict(as_dict(document.get("source")).get("target"))
    extra: dict[str, Any] = {}
    for key, name in (("imageID", "image_id"), ("manifestDigest", "manifest_digest")):
        digest = normalize_digest(text(target, key))
        if digest:
            extra[name] = digest
    descriptor = as_dict(document.get("descriptor"))
    distro = as_dict(document.get("distro"))
    return ParsedScan(
        source=SOURCE,
        image=_image(target),
        findings=merge_findings(filter(None, map(_finding, objects(matches)))),
        scanner=" ".join(
            filter(None, (text(descriptor, "name") or "grype", text(descriptor, "version")))
        ),
        os=" ".join(filter(None, (text(distro, "name"), text(distro, "version")))),
        extra=extra,
    )


def _usable(value: str) -> bool:
    return bool(value) and value.lower() not in _PLACEHOLDERS


def _image(target: dict[str, Any]) -> ImageRef | None:
    """From repoDigests, tags or userInput; redacted or unparsable values give None."""
    manifest = normalize_digest(text(target, "manifestDigest"))
    repo_digests = [d for d in texts(target.get("repoDigests")) if _usable(d) and "@" in d]
    tags = [t for t in texts(target.get("tags")) if _usable(t)]
    user_input = text(target, "userInput")
    for candidate in (*repo_digests, *tags, *([user_input] if _usable(user_input) else [])):
        ref = try_image_reference(candidate, manifest)
        if ref is None:
            continue
        tag = ref.tag or next(
            (t.tag for t in map(try_image_reference, tags) if t and t.name == ref.name), ""
        )
        return ImageRef(ref.registry, ref.repository, tag, ref.digest or manifest)
    return None


def _best_cvss(entries: object) -> tuple[float | None, str]:
    """The highest v3 base score, else the highest of any version."""
    scored = []
    for entry in dicts(entries):
        vector = text(entry, "vector")
        score = cvss_score(as_dict(entry.get("metrics")).get("baseScore"), vector)
        if score is not None:
            is_v3 = text(entry, "version").startswith("3") or vector.startswith("CVSS:3")
            scored.append((is_v3, score, vector))
    if not scored:
        return None, ""
    _, score, vector = max(scored, key=lambda item: (item[0], item[1]))
    return score, vector


def _package_type(artifact: dict[str, Any]) -> str:
    from_purl = package_type_from_purl(text(artifact, "purl"))
    if from_purl not in ("unknown", "generic"):
        return from_purl
    return package_type_from_trivy(text(artifact, "type"))


def _finding(match: dict[str, Any]) -> ParsedFinding | None:
    vuln = as_dict(match.get("vulnerability"))
    vuln_id = text(vuln, "id")
    if not vuln_id:
        return None
    artifact = as_dict(match.get("artifact"))
    score, vector = _best_cvss(vuln.get("cvss"))
    if score is None:
        related = dicts(match.get("relatedVulnerabilities"))
        score, vector = _best_cvss([entry for rel in related for entry in dicts(rel.get("cvss"))])
    description = text(vuln, "description") or next(
        (
            text(rel, "description")
            for rel in dicts(match.get("relatedVulnerabilities"))
            if text(rel, "description")
        ),
        "",
    )
    links = [text(vuln, "dataSource"), *texts(vuln.get("urls"))]
    return ParsedFinding(
        vulnerability_id=vuln_id,
        package=text(artifact, "name"),
        installed_version=text(artifact, "version"),
        package_type=_package_type(artifact),
        severity=normalize_severity(vuln.get("severity")),
        fixed_versions=split_versions(as_dict(vuln.get("fix")).get("versions")),
        cvss_score=score,
        cvss_vector=vector,
        description=description,
        links=unique(links),
        vendor_status=text(vuln.get("fix"), "state"),
        locations=unique(text(loc, "path") for loc in dicts(artifact.get("locations"))),
    )
