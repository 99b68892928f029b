"""Upsert of the shared Vulnerability rows a report mentions.

Each row carries a hash of the details the last report brought (``content_hash``):
a report that brings the same details again writes nothing, new ids are inserted
from tuples (COPY on PostgreSQL), and only ids whose details differ are read and
merged (blanks filled, the worst severity kept).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.utils import timezone

from remediator.core.severity import SEVERITY_RANK

from .bulk import in_ids, rows_insert, rows_update
from .models import Vulnerability, clip
from .parsers.base import ParsedFinding

FIELDS = ("title", "description", "severity", "cvss_score", "cvss_vector", "links", "published_at")
Details = tuple  # FIELDS in order


def _is_web_link(link: str) -> bool:
    """http(s) only: the dashboard renders links as hrefs (no javascript:, data:, ...)."""
    if link[:8].lower().startswith(("http://", "https://")) and "[" not in link:
        return True  # the common case, without a full urlsplit
    try:
        return urlsplit(link).scheme.lower() in ("http", "https")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _details(parsed: ParsedFinding) -> Details:
    return (
        clip(parsed.title, 500),
        parsed.description,
        parsed.severity,
        parsed.cvss_score,
        clip(parsed.cvss_vector, 200),
        [link for link in parsed.links if _is_web_link(link)][:20],
        parsed.published_at,
    )


def _merge(old: Details, new: Details) -> Details:
    """``old`` with its blanks filled from ``new`` and the worse severity of the two."""
    merged = []
    for field, before, after in zip(FIELDS, old, new, strict=True):
        if field == "severity":
            worse = SEVERITY_RANK.get(after, 0) > SEVERITY_RANK.get(before, 0)
            merged.append(after if worse else before)
        else:
            merged.append(before if before or not after else after)
    return tuple(merged)


def _hash(details: Details) -> str:
    return hashlib.blake2b(repr(details).encode(), digest_size=16).hexdigest()


def vulnerabilities_upsert(findings: Iterable[ParsedFinding]) -> None:
    incoming: dict[str, Details] = {}
    for parsed in findings:
        vuln_id = clip(parsed.vulnerability_id, 100)  # as ingest clips the finding's reference
        details = _details(parsed)
        kept = incoming.get(vuln_id)
        incoming[vuln_id] = details if kept is None else _merge(kept, details)
    if not incoming:
        return
    hashes = {vuln_id: _hash(details) for vuln_id, details in incoming.items()}
    stored = dict(
        Vulnerability.objects.filter(id__in=in_ids(list(incoming), text=True)).values_list(
            "id", "content_hash"
        )
    )
    now = timezone.now()
    rows_insert(
        Vulnerability._meta.db_table,
        ("id", *FIELDS, "updated_at", "content_hash"),
        (
            (vuln_id, *details[:5], json.dumps(details[5]), details[6], now, hashes[vuln_id])
            for vuln_id, details in sorted(incoming.items())
            if vuln_id not in stored
        ),
        skip_existing=True,  # another worker may insert the same new id meanwhile
    )
    changed = [v for v, h in stored.items() if h != hashes[v]]
    if not changed:
        return
    writes = []
    rows = Vulnerability.objects.filter(id__in=in_ids(changed, text=True)).values_list(
        "id", *FIELDS
    )
    for vuln_id, *old in rows:
        merged = _merge(tuple(old), incoming[vuln_id])
        writes.append(
            (*merged[:5], json.dumps(merged[5]), merged[6], now, hashes[vuln_id], vuln_id)
        )
    rows_update(
        Vulnerability._meta.db_table,
        (*FIELDS, "updated_at", "content_hash"),
        sorted(writes, key=lambda row: row[-1]),
    )
