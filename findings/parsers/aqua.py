"""Aqua Security image scan results: webhook/scanner-cli (A1, A2), the Azure
DevOps list wrapper (A3), API v1 ``scan_result`` (A4) and API v2
``risks/vulnerabilities`` pages (A5). See FORMATS.md sections 1-2."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from msgspec import UNSET, Raw

from . import generic
from .base import ImageRef, ParsedFinding, ParsedScan
from .fields import as_dict, as_list, clean, is_object, sharing, text, unique, wrong_shape
from .images import normalize_digest, try_image_reference
from .normalize import (
    cvss_score,
    merge_findings,
    normalize_severity,
    package_type_from_trivy,
    parse_datetime,
    severity_from_cvss,
    split_versions,
)
from .typed import Doc, TypedFormat, objects

SOURCE = "aqua"
_KNOWN_KEYS = frozenset(
    {
        "resources",
        "image",
        "digest",
        "pull_name",
        "cves",
        "result",
        "count",
        "registry",
        "image_name",
        "vulnerability_summary",
        "scan_started",
        "image_assurance_results",
        "scan_id",
        "findings",
    }
)
_REAL_KEYS = frozenset({"resources", "cves", "result"})
_RESOURCE_KINDS = {1: "file", 2: "binary", "file": "file", "executable": "binary"}
_FORMATS = {"java": "maven", "javascript": "npm", "python": "pypi", "go": "golang"}
# (score, vector) field pairs, best first: Aqua's own, NVD v3 (webhook, API v2), NVD v2.
_CVSS_FIELDS = (
    ("aqua_score", "aqua_vectors"),
    ("nvd_score_v3", "nvd_vectors_v3"),
    ("nvd_cvss3_score", "nvd_cvss3_vectors"),
    ("vendor_score_v3", "vendor_vectors_v3"),
    ("nvd_score", "nvd_vectors"),
    ("nvd_cvss2_score", "nvd_cvss2_vectors"),
    ("vendor_score", "vendor_vectors"),
    ("score", ""),
)
_SEVERITY_FIELDS = (
    "aqua_severity",
    "severity",
    "vendor_severity",
    "nvd_severity_v3",
    "nvd_cvss3_severity",
    "nvd_severity",
)
_VERSION_TOKEN = re.compile(r"[^\s:/]+")


# What the parser reads of a report (typed decoding, ``typed.py``): the vulnerabilities
# of A1/A2 and A4 (``cves``) and the rows of A5 (``result``) are decoded one at a time.
# The simplified payload and the A3 list are decoded as plain JSON.
class AquaResource(Doc):
    resource: Any = UNSET
    vulnerabilities: list[Raw] | None = UNSET


class AquaReport(Doc):
    resources: list[AquaResource] | None = UNSET
    cves: list[Raw] | None = UNSET
    result: list[Raw] | None = UNSET
    findings: Any = UNSET
    count: Any = UNSET
    image: Any = UNSET
    digest: Any = UNSET
    pull_name: Any = UNSET
    image_name: Any = UNSET
    registry: Any = UNSET
    os: Any = UNSET
    version: Any = UNSET
    vulnerability_summary: Any = UNSET
    scan_started: Any = UNSET
    scan_id: Any = UNSET
    image_assurance_results: Any = UNSET
    disallowed: Any = UNSET
    errorMsg: Any = UNSET
    status: Any = UNSET
    scan_status: Any = UNSET
    is_partial_data: Any = UNSET


def _typed_usable(document: AquaReport) -> bool:
    keys = document.keys()
    return bool(_KNOWN_KEYS & keys) and not ("findings" in keys and not (_REAL_KEYS & keys))


TYPED = TypedFormat(AquaReport, _typed_usable)


def parse(document: object) -> ParsedScan:
    """Parse any Aqua variant; ``{}`` and ``[]`` are empty scans."""
    if isinstance(document, list):
        return _parse_list(document)
    if not is_object(document):
        raise wrong_shape(SOURCE, "an object or a list of {'image_name', 'results'}", document)
    if document and not (_KNOWN_KEYS & document.keys()):
        raise wrong_shape(
            SOURCE, "an object with 'resources', 'cves', 'result' or 'findings'", document
        )
    if "findings" in document and not (_REAL_KEYS & document.keys()):
        return _parse_simplified(document)
    share = sharing()
    if "cves" in document:
        rows = _require_list(document, "cves")
        findings = [_finding(cve, {"name": text(cve, "file")}, share) for cve in objects(rows)]
    elif "result" in document and "resources" not in document:
        rows = _require_list(document, "result")
        findings = [_finding(row, as_dict(row.get("resource")), share) for row in objects(rows)]
    else:
        findings = [
            _finding(vuln, as_dict(entry.get("resource")), share)
            for entry in objects(_require_list(document, "resources"))
            for vuln in objects(entry.get("vulnerabilities"))
        ]
    return _scan(document, [f for f in findings if f is not None])


def _parse_simplified(document: dict[str, Any]) -> ParsedScan:
    """The seed blog's payload ``{"scanId", "findings": [{"id", "severity", "package",
    "version", "description", "fixedVersion"}], "status"}`` (FORMATS.md section 6): read
    as the generic format, with ``image`` as another name for ``imageName``."""
    if not isinstance(document["findings"], list):
        raise wrong_shape(SOURCE, "'findings' to be a list", document["findings"])
    if not text(document, "imageName") and text(document, "image"):
        document = {**document, "imageName": document["image"]}
    scan = generic.parse(document)
    return replace(scan, source=SOURCE, scanner=scan.scanner or "Aqua")


def _parse_list(document: list[Any]) -> ParsedScan:
    """A3: ``[{"image_name": ..., "results": {...}}]``; several items are combined."""
    scans = []
    for item in document:
        inner = as_dict(item).get("results", item)
        if not is_object(item) or not is_object(inner):
            raise wrong_shape(SOURCE, "list items {'image_name', 'results': {...}}", item)
        scan = parse(inner)
        if scan.image is None and text(item, "image_name"):
            scan = _scan({**inner, "image_name": item["image_name"]}, list(scan.findings))
        scans.append(scan)
    if not scans:
        return ParsedScan(source=SOURCE, image=None, scanner="Aqua")
    first = scans[0]
    findings = merge_findings(f for scan in scans for f in scan.findings)
    return ParsedScan(
        source=SOURCE,
        image=first.image,
        findings=findings,
        scanner=first.scanner,
        scan_id=first.scan_id,
        scanned_at=first.scanned_at,
        os=first.os,
        extra=first.extra,
        failure="; ".join(dict.fromkeys(s.failure for s in scans if s.failure)),
    )


def _require_list(document: dict[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if value is not None and not isinstance(value, list):
        raise wrong_shape(SOURCE, f"'{key}' to be a list", value)
    return as_list(value)


def _fixed_versions(value: object) -> tuple[str, ...]:
    """``fix_version`` may be a comma list or free text with versions on some lines."""
    versions: list[str] = []
    for line in clean(value).splitlines():
        for piece in split_versions(line):
            if _VERSION_TOKEN.fullmatch(piece) and any(ch.isdigit() for ch in piece):
                versions.append(piece)
    return tuple(dict.fromkeys(versions))


def _package_type(resource: dict[str, Any]) -> str:
    fmt = text(resource, "format").lower()
    if fmt:
        return package_type_from_trivy(_FORMATS.get(fmt, fmt))
    cpe = text(resource, "cpe")
    if cpe.startswith("pkg:/"):
        family = cpe[len("pkg:/") :].split(":", 1)[0].lower()
        return package_type_from_trivy(_FORMATS.get(family, family))
    kind = resource.get("type")
    if isinstance(kind, str):
        kind = kind.lower()
    return _RESOURCE_KINDS.get(kind, "unknown") if isinstance(kind, int | str) else "unknown"


def _cvss(vuln: dict[str, Any]) -> tuple[float | None, str]:
    for score_key, vector_key in _CVSS_FIELDS:
        vector = text(vuln, vector_key) if vector_key else ""
        score = cvss_score(vuln.get(score_key), vector)
        if score is not None:
            return score, vector
    return None, ""


def _finding(
    vuln: dict[str, Any], resource: dict[str, Any], share: Callable[[Any], Any]
) -> ParsedFinding | None:
    vuln_id = text(vuln, "name")
    if not vuln_id:
        return None
    score, vector = _cvss(vuln)
    severity = "unknown"
    for key in _SEVERITY_FIELDS:
        severity = normalize_severity(vuln.get(key))
        if severity != "unknown":
            break
    else:
        severity = severity_from_cvss(score)
    path = text(resource, "path")
    # The layer digest is a stable id; the layer command (often a whole script) is the fallback.
    layer = text(resource, "layer_digest") or text(resource, "layer")
    return ParsedFinding(
        vulnerability_id=vuln_id,
        package=share(text(resource, "name") or path),
        installed_version=share(text(resource, "version")),
        package_type=_package_type(resource),
        severity=severity,
        fixed_versions=share(_fixed_versions(vuln.get("fix_version"))),
        cvss_score=score,
        cvss_vector=share(vector),
        description=share(text(vuln, "description")),
        links=unique(text(vuln, key) for key in ("nvd_url", "url", "vendor_url")),
        locations=share(unique((path, layer))),
        published_at=parse_datetime(text(vuln, "publish_date", "publishdate")),
    )


def _image(document: dict[str, Any], first_row: dict[str, Any]) -> ImageRef | None:
    digest = normalize_digest(text(document, "digest") or text(first_row, "image_digest"))
    for candidate in (
        text(document, "pull_name"),
        text(document, "image"),
        text(document, "image_name"),
        text(first_row, "image_name"),
    ):
        image = try_image_reference(candidate, digest) if candidate else None
        if image is not None:
            return image
    return None


def _scan(document: dict[str, Any], findings: list[ParsedFinding]) -> ParsedScan:
    first_row = next(objects(document.get("result")), {})
    extra: dict[str, Any] = {}
    registry = text(document, "registry") or text(first_row, "registry")
    if registry:
        extra["aqua_registry"] = registry
    assurance = as_dict(document.get("image_assurance_results"))
    disallowed = assurance.get("disallowed", document.get("disallowed"))
    if isinstance(disallowed, bool):
        extra["disallowed"] = disallowed
    os_name = " ".join(
        filter(
            None,
            (
                text(document, "os") or text(first_row, "os"),
                text(document, "version") or text(first_row, "os_version"),
            ),
        )
    )
    return ParsedScan(
        source=SOURCE,
        image=_image(document, first_row),
        findings=merge_findings(findings),
        scanner="Aqua",
        scan_id=clean(document.get("scan_id")),
        scanned_at=parse_datetime(document.get("scan_started")),
        os=os_name,
        extra=extra,
        failure=_failure(document),
    )


def _failure(document: dict[str, Any]) -> str:
    """Aqua's own words that the scan failed or the data is partial (A4 ``status`` and
    ``errorMsg``, A5 ``is_partial_data``, a ``scan_status`` of failed)."""
    error = text(document, "errorMsg")
    if error:
        return f"Aqua reported an error: {error}"
    for key in ("status", "scan_status"):
        status = text(document, key)
        if status.lower() in ("failed", "fail", "error"):
            return f"Aqua's {key} is {status!r}"
    if document.get("is_partial_data") is True:
        return "Aqua returned partial data (is_partial_data)"
    return ""
