"""Helpers shared by the parsers: severities, CVSS, versions, dates, merging.

Image references/digests live in :mod:`.images` and ecosystems in
:mod:`.ecosystems`; they are re-exported here so callers have one import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cvss import CVSS2, CVSS3, CVSS4
from msgspec.structs import replace

from remediator.core.severity import SEVERITIES
from remediator.core.storable import utc_datetime

from .base import ParsedFinding
from .ecosystems import package_type_from_purl, package_type_from_trivy
from .fields import as_dict, clean, number
from .images import normalize_digest, parse_image_reference

__all__ = [
    "cvss_from_vector",
    "merge_findings",
    "normalize_digest",
    "normalize_severity",
    "package_type_from_purl",
    "package_type_from_trivy",
    "parse_datetime",
    "parse_image_reference",
    "severity_from_cvss",
    "split_versions",
    "worst_severity",
]

_SEVERITY_WORDS = {
    "critical": "critical",
    "high": "high",
    "important": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "negligible": "negligible",
    "unimportant": "negligible",
    "info": "negligible",
    "informational": "negligible",
    "unknown": "unknown",
    "none": "unknown",
}
# Trivy VendorSeverity integers: 0 unknown, 1 low, 2 medium, 3 high, 4 critical.
_SEVERITY_NUMBERS = {0: "unknown", 1: "low", 2: "medium", 3: "high", 4: "critical"}
_SEVERITY_DIGITS = {str(number): word for number, word in _SEVERITY_NUMBERS.items()}


def normalize_severity(value: object) -> str:
    """Map any scanner's severity (word in any case, or Trivy's 0-4) to SEVERITIES."""
    if isinstance(value, bool) or value is None:
        return "unknown"
    if isinstance(value, int | float):
        return _SEVERITY_NUMBERS.get(value, "unknown")  # 4.0 == 4; 4.5 and nan match nothing
    if not isinstance(value, str):
        return "unknown"
    word = value.strip().lower()
    if word in _SEVERITY_DIGITS:
        return _SEVERITY_DIGITS[word]
    return _SEVERITY_WORDS.get(word, "unknown")


def severity_from_cvss(score: object) -> str:
    """CVSS v3 qualitative rating: 0.0 -> negligible ('None'), 0.1-3.9 low,
    4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical; missing/out of range -> unknown."""
    value = number(score)
    if value is None or value < 0 or value > 10:
        return "unknown"
    tenths = round(value * 10)  # CVSS scores have one decimal; avoid float edge noise
    if tenths == 0:
        return "negligible"
    if tenths < 40:
        return "low"
    if tenths < 70:
        return "medium"
    if tenths < 90:
        return "high"
    return "critical"


def worst_severity(*values: str) -> str:
    """The worst of normalised severities; 'unknown' only if nothing is known."""
    known = [v for v in values if v in SEVERITIES]
    return min(known, key=SEVERITIES.index) if known else "unknown"


def cvss_score(score: object, vector: str = "") -> float | None:
    """The score a report gives, else the base score computed from its vector."""
    value = number(score)
    return value if value is not None else cvss_from_vector(vector)


def cvss_from_vector(vector: object) -> float | None:
    """Base score computed from a CVSS v2, v3.x or v4.0 vector; None if invalid."""
    if not isinstance(vector, str):
        return None
    text = vector.strip().strip("()")
    if not text:
        return None
    try:
        if text.startswith("CVSS:4"):
            score: object = CVSS4(text).base_score
        elif text.startswith("CVSS:3"):
            score = CVSS3(text).base_score
        else:
            score = CVSS2(text).base_score
    except Exception:  # the cvss library raises several unrelated types on bad input
        return None
    if isinstance(score, Decimal | int | float):
        return float(score)
    return None


def split_versions(value: object) -> tuple[str, ...]:
    """Fixed versions from a comma list or a list of strings; ordered, unique, no blanks."""
    if isinstance(value, list | tuple):
        pieces = [p for item in value for p in clean(item).split(",")]
    else:
        pieces = clean(value).split(",")
    result: dict[str, None] = {}
    for piece in pieces:
        piece = piece.strip()
        if piece:
            result.setdefault(piece, None)
    return tuple(result)


_FRACTION = re.compile(r"(\.\d{6})\d+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_datetime(value: object) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text, epoch seconds, or Aqua's
    ``{"seconds": N, "nanos": N}``; None for anything else, for Go's zero time and
    for times that leave years 1-9999 once in UTC (``9999-12-31T23:00-05:00``)."""
    try:
        if isinstance(value, dict):
            seconds = number(as_dict(value).get("seconds"))
            if seconds is None:
                return None
            nanos = number(value.get("nanos")) or 0.0
            result = _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            result = _EPOCH + timedelta(seconds=float(value))
        elif isinstance(value, str) and value.strip():
            text = value.strip()
            if text.isdigit():
                return parse_datetime(int(text))
            text = _FRACTION.sub(r"\1", text)
            if text[-1:] in "zZ":
                text = text[:-1] + "+00:00"
            result = datetime.fromisoformat(text)
        else:
            return None
    except (ValueError, OverflowError, TypeError):
        return None
    utc = utc_datetime(result)
    return None if utc is None or utc.year <= 1 else utc


def _union(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for group in groups for item in group if item))


def _merge_two(old: ParsedFinding, new: ParsedFinding) -> ParsedFinding:
    better_score = new.cvss_score is not None and (
        old.cvss_score is None or new.cvss_score > old.cvss_score
    )
    return replace(
        old,
        package_type=old.package_type if old.package_type != "unknown" else new.package_type,
        severity=worst_severity(old.severity, new.severity),
        fixed_versions=_union(old.fixed_versions, new.fixed_versions),
        cvss_score=new.cvss_score if better_score else old.cvss_score,
        cvss_vector=new.cvss_vector if better_score else (old.cvss_vector or new.cvss_vector),
        title=old.title or new.title,
        description=old.description or new.description,
        links=_union(old.links, new.links),
        vendor_status=old.vendor_status or new.vendor_status,
        locations=_union(old.locations, new.locations),
        published_at=old.published_at or new.published_at,
    )


def merge_findings(findings: Iterable[ParsedFinding]) -> tuple[ParsedFinding, ...]:
    """One finding per (vulnerability_id, package, installed_version), in first-seen order.

    Locations, fixed versions and links are unioned; the worst severity and
    the highest CVSS score win; text fields keep the first non-empty value.

    The findings are grouped by their vulnerability id (a text each holds already); only
    an id found in several packages or versions gets a dict of its own, keyed by both. A
    key tuple per finding would cost a report of 100,000 findings 7 MiB while it merges.
    """
    found = findings if isinstance(findings, list) else list(findings)
    by_id: dict[str, ParsedFinding | dict[tuple[str, str], ParsedFinding]] = {}
    for finding in found:
        vuln_id = finding.vulnerability_id
        held = by_id.get(vuln_id)
        if held is None:
            by_id[vuln_id] = finding
        elif isinstance(held, dict):
            where = (finding.package, finding.installed_version)
            other = held.get(where)
            held[where] = finding if other is None else _merge_two(other, finding)
        elif (held.package, held.installed_version) == (finding.package, finding.installed_version):
            by_id[vuln_id] = _merge_two(held, finding)
        else:
            by_id[vuln_id] = {
                (held.package, held.installed_version): held,
                (finding.package, finding.installed_version): finding,
            }
    if len(by_id) == len(found):  # every id once: nothing was merged
        return tuple(found)
    merged = []
    for finding in found:  # the first finding of each key takes its merged form out
        held = by_id.get(finding.vulnerability_id)
        if isinstance(held, dict):
            held = held.pop((finding.package, finding.installed_version), None)
        elif held is not None:
            del by_id[finding.vulnerability_id]
        if held is not None:
            merged.append(held)
    return tuple(merged)
