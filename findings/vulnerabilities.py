"""Upsert of the shared Vulnerability rows a report mentions.

Each row carries two hashes of what the last report said of it: ``report_hash``, of its
fields as the report gave them (cheap: no details are built), and ``content_hash``, of
the details made of them (clipped, web links only). A report that says the same again
is known by ``report_hash`` alone and costs no details; one whose fields differ but make
the same details writes only its ``report_hash``; new ids are inserted from tuples (COPY
on PostgreSQL), and only ids whose details differ are read and merged (blanks filled,
the worst severity kept).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import TypeVar
from urllib.parse import urlsplit

import msgspec
from django.utils import timezone
from msgspec import defstruct
from msgspec.structs import astuple

from remediator.core.severity import SEVERITY_RANK

from .bulk import in_ids, rows_insert, rows_update
from .models import Vulnerability, clip
from .parsers.base import ParsedFinding
from .rows import Row, columns_getter, fields_of, json_text

_T = TypeVar("_T")
CHUNK = 5000
"""Vulnerability ids written at a time."""

Said = tuple[str, str, str, float | None, str, Sequence[str], datetime | None]
"""What a report says of a vulnerability, as it says it, in VulnerabilityDetails' order."""
said_of = attrgetter(
    "title", "description", "severity", "cvss_score", "cvss_vector", "links", "published_at"
)
"""A parsed finding's ``Said``."""


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
        return cls.said(*said_of(parsed))

    @classmethod
    def said(
        cls,
        title: str,
        description: str,
        severity: str,
        cvss_score: float | None,
        cvss_vector: str,
        links: Sequence[str],
        published_at: datetime | None,
    ) -> VulnerabilityDetails:
        """The details of what a report says (``Said``): clipped, web links only."""
        if all(map(_plain_web_link, links)):  # the common case: every link kept
            kept = list(links[:20])
        else:
            kept = [link for link in links if _is_web_link(link)][:20]
        return cls(
            title=clip(title, 500),
            description=description,
            severity=severity,
            cvss_score=cvss_score,
            cvss_vector=clip(cvss_vector, 200),
            links=kept,
            published_at=published_at,
        )

    def columns(self) -> tuple:
        """Its values as written, in field order: ``links`` as JSON text."""
        return (
            self.title,
            self.description,
            self.severity,
            self.cvss_score,
            self.cvss_vector,
            json_text(self.links),
            self.published_at,
        )


_row_fields = fields_of(
    ("id", str), VulnerabilityDetails, ("links", str), ("content_hash", str), ("report_hash", str)
)


class VulnerabilityRow(defstruct("VulnerabilityRow", _row_fields, bases=(Row,), module=__name__)):
    """A vulnerability as written: its id, its details (``links`` as JSON text), their
    ``content_hash`` and the ``report_hash`` of what the report said."""

    @classmethod
    def of(
        cls, vuln_id: str, details: VulnerabilityDetails, *, content_hash: str, report_hash: str
    ) -> VulnerabilityRow:
        return cls(vuln_id, *details.columns(), content_hash=content_hash, report_hash=report_hash)


UPDATE_COLUMNS = (*(c for c in VulnerabilityRow.__struct_fields__ if c != "id"), "id")
"""A VulnerabilityRow's columns as ``rows_update`` takes them: the id last."""
_update_columns = columns_getter(VulnerabilityRow.__struct_fields__, UPDATE_COLUMNS)

_plain_web_link = re.compile(r"https?://[^\[]*\Z", re.IGNORECASE | re.ASCII).match
"""An http(s) link with no bracket: a web link without a full urlsplit."""


def _is_web_link(link: str) -> bool:
    """http(s) only: the dashboard renders links as hrefs (no javascript:, data:, ...)."""
    if _plain_web_link(link):
        return True
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


_encode = msgspec.msgpack.Encoder().encode


def _report_hash(said: list[Said]) -> str:
    """A hash of what a report said of one vulnerability, each distinct ``Said`` in order.
    MessagePack keeps every value apart (a float from an int or None, a text from a
    datetime); an aware datetime is kept as its instant, as the column stores it."""
    return hashlib.sha256(_encode(said)).hexdigest()[:32]


def _details(said: list[Said]) -> VulnerabilityDetails:
    """The details of what a report said of one vulnerability, merged in order. A
    ``Said`` listed again after its first time would change nothing: merging is
    idempotent (a blank filled stays filled, the worse severity stays)."""
    details = VulnerabilityDetails.said(*said[0])
    for more in said[1:]:
        details = _merge(details, VulnerabilityDetails.said(*more))
    return details


def _by_id(findings: Iterable[ParsedFinding]) -> dict[str, list[ParsedFinding]]:
    """{vulnerability id: the findings naming it, in order}."""
    found: dict[str, list[ParsedFinding]] = {}
    for parsed in findings:
        vuln_id = clip(parsed.vulnerability_id, 100)  # as ingest clips the finding's reference
        kept = found.get(vuln_id)
        if kept is None:
            found[vuln_id] = [parsed]
        else:
            kept.append(parsed)
    return found


def _said(findings: list[ParsedFinding]) -> list[Said]:
    """What a report says of one vulnerability: each distinct ``Said`` once, in order."""
    said: list[Said] = []
    for parsed in findings:
        told = said_of(parsed)
        if told not in said:
            said.append(told)
    return said


def _new_row(vuln_id: str, said: list[Said], report_hash: str) -> tuple:
    details = _details(said)
    return (vuln_id, *details.columns(), _hash(details), report_hash)


def vulnerabilities_upsert(findings: Iterable[ParsedFinding]) -> None:
    """Store the vulnerabilities ``findings`` name: new ones inserted, known ones updated
    when what the report says of them changed. A few thousand ids at a time, in the order
    of their id, so that a report naming 100,000 holds the details and hashes of one
    chunk only."""
    by_id = _by_id(findings)
    ids = sorted(by_id)
    now = timezone.now()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        _upsert({vuln_id: _said(by_id[vuln_id]) for vuln_id in chunk}, now)


def _upsert(said: dict[str, list[Said]], now: datetime) -> None:
    report_hashes = {vuln_id: _report_hash(told) for vuln_id, told in said.items()}
    stored = {
        vuln_id: (content_hash, report_hash)
        for vuln_id, content_hash, report_hash in Vulnerability.objects.filter(
            id__in=in_ids(list(said), text=True)
        ).values_list("id", "content_hash", "report_hash")
    }
    new = [v for v in said if v not in stored]  # in order: ``said`` is
    if new:
        rows_insert(
            Vulnerability._meta.db_table,
            VulnerabilityRow.__struct_fields__,
            (_new_row(vuln_id, said[vuln_id], report_hashes[vuln_id]) for vuln_id in new),
            same={"updated_at": now},
            skip_existing=True,  # another worker may insert the same new id meanwhile
        )
    incoming = {
        vuln_id: _details(said[vuln_id])
        for vuln_id, (_, report_hash) in stored.items()
        if report_hash != report_hashes[vuln_id]
    }
    if not incoming:
        return
    hashes = {vuln_id: _hash(details) for vuln_id, details in incoming.items()}
    same = sorted(v for v, h in hashes.items() if h == stored[v][0])
    rows_update(  # the same details, said otherwise (or first hashed so): no details written
        Vulnerability._meta.db_table, ("report_hash", "id"), [(report_hashes[v], v) for v in same]
    )
    changed = [v for v, h in hashes.items() if h != stored[v][0]]
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
            report_hash=report_hashes[vuln_id],
        )
        for vuln_id, *old in rows
    ]
    rows_update(
        Vulnerability._meta.db_table,
        UPDATE_COLUMNS,
        [_update_columns(astuple(row)) for row in sorted(writes, key=attrgetter("id"))],
        same={"updated_at": now},
    )
