"""Remediator's own simplified payload (FORMATS.md section 6)::

    {"scanId", "imageName", "tag", "digest", "status",
     "findings": [{"id", "severity", "package", "version", "description",
                   "fixedVersion", "packageType"?, "cvss"?, "links"?, "title"?}]}

``imageName`` may carry a registry and tag; an explicit ``tag`` overrides it.
"""

from __future__ import annotations

from typing import Any

from .base import ImageRef, ParsedFinding, ParsedScan
from .fields import as_dict, clean, dicts, is_object, number, text, texts, wrong_shape
from .images import normalize_digest, try_image_reference
from .normalize import (
    cvss_from_vector,
    cvss_score,
    merge_findings,
    normalize_severity,
    package_type_from_trivy,
    parse_datetime,
    severity_from_cvss,
    split_versions,
)

SOURCE = "generic"
FAILED_STATUSES = frozenset(
    {"failed", "failure", "error", "errored", "aborted", "cancelled", "canceled", "partial"}
)
"""A ``status`` saying the scan did not complete: the report is kept but proves nothing."""


def parse(document: object) -> ParsedScan:
    if not is_object(document) or "findings" not in document:
        raise wrong_shape(SOURCE, "an object with a 'findings' list", document)
    findings = document.get("findings")
    if findings is not None and not isinstance(findings, list):
        raise wrong_shape(SOURCE, "'findings' to be a list", findings)
    extra: dict[str, Any] = {}
    status = text(document, "status")
    if status:
        extra["status"] = status
    failure = f"the report's status is {status!r}" if status.lower() in FAILED_STATUSES else ""
    return ParsedScan(
        source=SOURCE,
        image=_image(document),
        findings=merge_findings(filter(None, map(_finding, dicts(findings)))),
        scanner=text(document, "scanner"),
        scan_id=text(document, "scanId"),
        scanned_at=parse_datetime(document.get("scannedAt")),
        extra=extra,
        failure=failure,
    )


def _image(document: dict[str, Any]) -> ImageRef | None:
    ref = try_image_reference(text(document, "imageName"), text(document, "digest"))
    if ref is None:
        return None
    tag = text(document, "tag")
    if tag and try_image_reference(f"{ref.name}:{tag}") is not None:
        ref = ImageRef(ref.registry, ref.repository, tag, ref.digest)
    if not ref.digest and normalize_digest(text(document, "digest")):
        ref = ImageRef(ref.registry, ref.repository, ref.tag, normalize_digest(document["digest"]))
    return ref


def _cvss(value: object) -> tuple[float | None, str]:
    """``cvss`` may be a number, a vector string, or {"score", "vector"}."""
    if is_object(value):
        vector = text(value, "vector")
        return cvss_score(value.get("score"), vector), vector
    score = number(value)
    if score is not None:
        return score, ""
    vector = clean(value)
    score = cvss_from_vector(vector)
    return (score, vector) if score is not None else (None, "")


def _finding(item: dict[str, Any]) -> ParsedFinding | None:
    vuln_id = text(item, "id")
    if not vuln_id:
        return None
    score, vector = _cvss(item.get("cvss"))
    severity = normalize_severity(item.get("severity"))
    if severity == "unknown":
        severity = severity_from_cvss(score)
    return ParsedFinding(
        vulnerability_id=vuln_id,
        package=text(item, "package"),
        installed_version=text(item, "version"),
        package_type=package_type_from_trivy(text(item, "packageType")),
        severity=severity,
        fixed_versions=split_versions(item.get("fixedVersion")),
        cvss_score=score,
        cvss_vector=vector,
        title=text(item, "title"),
        description=text(item, "description"),
        links=tuple(dict.fromkeys(texts(item.get("links")))),
        locations=tuple(dict.fromkeys(texts(as_dict(item).get("locations")))),
    )
