"""Upsert of the shared Vulnerability rows a report mentions (two statements)."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from remediator.core.severity import SEVERITY_RANK

from .models import Vulnerability, clip
from .parsers.base import ParsedFinding

FIELDS = ("title", "description", "severity", "cvss_score", "cvss_vector", "links", "published_at")


def _is_web_link(link: str) -> bool:
    """http(s) only: the dashboard renders links as hrefs (no javascript:, data:, ...)."""
    try:
        return urlsplit(link).scheme.lower() in ("http", "https")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _from_parsed(parsed: ParsedFinding) -> Vulnerability:
    return Vulnerability(
        id=clip(parsed.vulnerability_id, 100),  # as ingest clips the finding's reference
        title=clip(parsed.title, 500),
        description=parsed.description,
        severity=parsed.severity,
        cvss_score=parsed.cvss_score,
        cvss_vector=clip(parsed.cvss_vector, 200),
        links=[link for link in parsed.links if _is_web_link(link)][:20],
        published_at=parsed.published_at,
    )


def _merge(old: Vulnerability, new: Vulnerability) -> bool:
    """Fill what ``old`` lacks from ``new``; keep the worst severity. True if changed."""
    changed = False
    for field in FIELDS:
        if field == "severity":
            if SEVERITY_RANK.get(new.severity, 0) > SEVERITY_RANK.get(old.severity, 0):
                old.severity = new.severity
                changed = True
        elif not getattr(old, field) and getattr(new, field):
            setattr(old, field, getattr(new, field))
            changed = True
    return changed


def vulnerabilities_upsert(findings: Iterable[ParsedFinding]) -> None:
    incoming: dict[str, Vulnerability] = {}
    for parsed in findings:
        vuln = _from_parsed(parsed)
        if vuln.id in incoming:
            _merge(incoming[vuln.id], vuln)
        else:
            incoming[vuln.id] = vuln
    if not incoming:
        return
    existing = Vulnerability.objects.in_bulk(list(incoming))
    writes = []
    for vuln_id, vuln in incoming.items():
        old = existing.get(vuln_id)
        if old is None:
            writes.append(vuln)
        elif _merge(old, vuln):
            writes.append(old)
    if writes:
        Vulnerability.objects.bulk_create(
            writes, update_conflicts=True, unique_fields=["id"], update_fields=list(FIELDS)
        )
