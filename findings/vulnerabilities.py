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
from datetime import datetime
from operator import attrgetter
from typing import TypeVar
from urllib.parse import urlsplit

from django.utils import timezone
from msgspec import defstruct
from msgspec.structs import astuple

from remediator.core.severity import SEVERITY_RANK

from .bulk import in_ids, rows_insert, rows_update
from .models import Vulnerability, clip
from .parsers.base import ParsedFinding
from .rows import Row, columns_getter, fields_of

_T = TypeVar("_T")


class VulnerabilityDetails(Row):
    """What a report says about a vulnerability."""

    title: str
    description: str
    severity: str
    cvss_score: float | None
    cvss_vector: str
    links: list[str]
    published_at: datetime | None

    @classmethod
    def of(cls, parsed: ParsedFinding) -> VulnerabilityDetails:
        return cls(
            title=clip(parsed.title, 500),
            description=parsed.description,
            severity=parsed.severity,
            cvss_score=parsed.cvss_score,
            cvss_vector=clip(parsed.cvss_vector, 200),
            links=[link for link in parsed.links if _is_web_link(link)][:20],
            published_at=parsed.published_at,
        )

    def columns(self) -> tuple:
        """Its values as written, in field order: ``links`` as JSON text."""
        return (
            self.title,
            self.description,
            self.severity,
            self.cvss_score,
            self.cvss_vector,
            json.dumps(self.links),
            self.published_at,
        )


_row_fields = fields_of(("id", str), VulnerabilityDetails, ("links", str), ("content_hash", str))


class VulnerabilityRow(defstruct("VulnerabilityRow", _row_fields, bases=(Row,), module=__name__)):
    """A vulnerability as written: its id, its details (``links`` as JSON text) and their
    ``content_hash``."""

    @classmethod
    def of(
        cls, vuln_id: str, details: VulnerabilityDetails, *, content_hash: str
    ) -> VulnerabilityRow:
        return cls(vuln_id, *details.columns(), content_hash=content_hash)


UPDATE_COLUMNS = (*(c for c in VulnerabilityRow.__struct_fields__ if c != "id"), "id")
"""A VulnerabilityRow's columns as ``rows_update`` takes them: the id last."""
_update_columns = columns_getter(VulnerabilityRow.__struct_fields__, UPDATE_COLUMNS)


def _is_web_link(link: str) -> bool:
    """http(s) only: the dashboard renders links as hrefs (no javascript:, data:, ...)."""
    if link[:8].lower().startswith(("http://", "https://")) and "[" not in link:
        return True  # the common case, without a full urlsplit
    try:
        return urlsplit(link).scheme.lower() in ("http", "https")
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _merge(old: VulnerabilityDetails, new: VulnerabilityDetails) -> VulnerabilityDetails:
    """``old`` with its blanks filled from ``new`` and the worse severity of the two."""
    worse = SEVERITY_RANK.get(new.severity, 0) > SEVERITY_RANK.get(old.severity, 0)
    return VulnerabilityDetails(
        title=_filled(old.title, new.title),
        description=_filled(old.description, new.description),
        severity=new.severity if worse else old.severity,
        cvss_score=_filled(old.cvss_score, new.cvss_score),
        cvss_vector=_filled(old.cvss_vector, new.cvss_vector),
        links=_filled(old.links, new.links),
        published_at=_filled(old.published_at, new.published_at),
    )


def _filled(before: _T, after: _T) -> _T:
    """``before``, unless it is blank and ``after`` is not."""
    return before if before or not after else after


def _hash(details: VulnerabilityDetails) -> str:
    """A hash of the details' values, as a plain tuple (as rows stored before were hashed)."""
    return hashlib.blake2b(repr(astuple(details)).encode(), digest_size=16).hexdigest()


def vulnerabilities_upsert(findings: Iterable[ParsedFinding]) -> None:
    incoming: dict[str, VulnerabilityDetails] = {}
    for parsed in findings:
        vuln_id = clip(parsed.vulnerability_id, 100)  # as ingest clips the finding's reference
        details = VulnerabilityDetails.of(parsed)
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
        VulnerabilityRow.__struct_fields__,
        (
            astuple(VulnerabilityRow.of(vuln_id, details, content_hash=hashes[vuln_id]))
            for vuln_id, details in sorted(incoming.items())
            if vuln_id not in stored
        ),
        same={"updated_at": now},
        skip_existing=True,  # another worker may insert the same new id meanwhile
    )
    changed = [v for v, h in stored.items() if h != hashes[v]]
    if not changed:
        return
    rows = Vulnerability.objects.filter(id__in=in_ids(changed, text=True)).values_list(
        "id", *VulnerabilityDetails.__struct_fields__
    )
    writes = [
        VulnerabilityRow.of(
            vuln_id,
            _merge(VulnerabilityDetails(*old), incoming[vuln_id]),
            content_hash=hashes[vuln_id],
        )
        for vuln_id, *old in rows
    ]
    rows_update(
        Vulnerability._meta.db_table,
        UPDATE_COLUMNS,
        [_update_columns(astuple(row)) for row in sorted(writes, key=attrgetter("id"))],
        same={"updated_at": now},
    )
