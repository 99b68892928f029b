"""Harbor's vulnerability report (``GET .../artifacts/{ref}/additions/vulnerabilities``).

The response is keyed by MIME type (``application/vnd.security.vulnerability.report;
version=1.1`` or the old Clair adapter's ``application/vnd.scanner.adapter.vuln.report
.harbor+json; version=1.0``); the bare inner object is accepted too. Harbor webhook
events carry only counts and are refused here (FORMATS.md section 4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import UNSET, Raw

from .base import ParsedFinding, ParsedScan, ParseError
from .fields import as_dict, is_object, sharing, text, texts, wrong_shape
from .normalize import (
    cvss_score,
    merge_findings,
    normalize_severity,
    package_type_from_purl,
    parse_datetime,
    split_versions,
)
from .typed import Doc, TypedFormat, objects

SOURCE = "harbor"
REPORT_MIME_MARKERS = ("vnd.security.vulnerability.report", "vnd.scanner.adapter.vuln.report")
MIME_KEYS = {
    "v11": "application/vnd.security.vulnerability.report; version=1.1",
    "v10": "application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0",
}
"""The response's keys as Harbor writes them (others are read from plain JSON)."""


# What the parser reads of a response (typed decoding, ``typed.py``): the
# vulnerabilities are decoded one at a time.
class HarborReport(Doc):
    generated_at: Any = UNSET
    scanner: Any = UNSET
    vulnerabilities: list[Raw] | None = UNSET  # decoded one at a time (typed.objects)


class HarborResponse(HarborReport, rename=MIME_KEYS):
    """A MIME-keyed response, or the bare report; the keys of an event, to tell one."""

    v11: HarborReport | None = UNSET
    v10: HarborReport | None = UNSET
    type: Any = UNSET
    event_data: Any = UNSET
    specversion: Any = UNSET


TYPED = TypedFormat(
    HarborResponse,
    lambda document: not is_webhook_event(document) and report_body(document) is not None,
)


def is_webhook_event(document: object) -> bool:
    """A Harbor webhook event, Default (type + event_data) or CloudEvents (harbor.* type)."""
    if not is_object(document):
        return False
    if "type" in document and "event_data" in document:
        return True
    return "specversion" in document and text(document, "type").startswith("harbor.")


def report_body(document: object) -> dict[str, Any] | None:
    """The inner report of a MIME-keyed response, or the document if already inner."""
    if not is_object(document):
        return None
    for key, value in document.items():
        if isinstance(key, str) and any(marker in key for marker in REPORT_MIME_MARKERS):
            return as_dict(value)
    if "vulnerabilities" in document and ("generated_at" in document or "scanner" in document):
        return document
    return None


def parse(document: object) -> ParsedScan:
    if is_webhook_event(document):
        kind = text(document, "type") or "unknown type"
        raise ParseError(f"harbor: this is a webhook event ({kind}), not a vulnerability report")
    report = report_body(document)
    if report is None:
        raise wrong_shape(
            SOURCE,
            "a vulnerability report keyed by 'application/vnd.security.vulnerability.report"
            "; version=1.1' (or its inner object with 'vulnerabilities')",
            document,
        )
    vulnerabilities = report.get("vulnerabilities")
    if vulnerabilities is not None and not isinstance(vulnerabilities, list):
        raise wrong_shape(SOURCE, "'vulnerabilities' to be a list", vulnerabilities)
    scanner = as_dict(report.get("scanner"))
    return ParsedScan(
        source=SOURCE,
        image=None,  # the report does not name the artifact; the caller knows it
        findings=merge_findings(_findings(vulnerabilities)),
        scanner=" ".join(filter(None, (text(scanner, "name"), text(scanner, "version")))),
        scanned_at=parse_datetime(report.get("generated_at")),
    )


def _findings(vulnerabilities: list[Any] | None) -> list[ParsedFinding]:
    """The report's findings as listed; equal texts shared by a memo that ends here,
    before the findings merge (it holds every distinct text of the report)."""
    share = sharing()
    return [f for f in (_finding(vuln, share) for vuln in objects(vulnerabilities)) if f]


def _cvss(vuln: dict[str, Any]) -> tuple[float | None, str]:
    preferred = as_dict(vuln.get("preferred_cvss"))
    for version in ("v3", "v2"):
        vector = text(preferred, f"vector_{version}")
        score = cvss_score(preferred.get(f"score_{version}"), vector)
        if score is not None:
            return score, vector
    return None, ""


def _package_type(vuln: dict[str, Any]) -> str:
    """Harbor has no ecosystem field; use a purl when a scanner adds one."""
    attributes = as_dict(vuln.get("vendor_attributes"))
    for purl in (text(vuln, "purl"), text(attributes, "purl"), text(attributes, "PURL")):
        if purl:
            return package_type_from_purl(purl)
    return "unknown"


def _finding(vuln: dict[str, Any], share: Callable[[Any], Any]) -> ParsedFinding | None:
    vuln_id = text(vuln, "id")
    if not vuln_id:
        return None
    score, vector = _cvss(vuln)
    return ParsedFinding(
        vulnerability_id=vuln_id,
        package=share(text(vuln, "package")),
        installed_version=share(text(vuln, "version")),
        package_type=_package_type(vuln),
        severity=normalize_severity(vuln.get("severity")),
        fixed_versions=share(split_versions(vuln.get("fix_version"))),
        cvss_score=score,
        cvss_vector=share(vector),
        description=share(text(vuln, "description")),
        links=tuple(dict.fromkeys(texts(vuln.get("links")))),
    )
