"""Writing a parsed VEX document: ``vex_document_import``, all of it or nothing.

A newer version of a document (same id, same author) supersedes the older ones: their
statements stay, for the record, but no longer count. An older version arriving later
is kept, already superseded. Versions are compared by their numbers, then by the
document's timestamp; on a tie the one received last counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from findings.models import Delivery, clip
from findings.parsers.vex import VexDocument, version_key

from .models import VexAlias, VexImport, VexStatement

BATCH = 1_000
_CVE = re.compile(r"cve-\d{4}-\d+", re.IGNORECASE)


def _vulnerability_id(text: str) -> str:
    """An id as stored: a CVE id in its canonical upper case, as scanners report it
    (looked up by equality); any other id as published (GHSA ids are mixed case)."""
    return text.upper() if _CVE.fullmatch(text) else clip(text, 100)


_OLDEST = datetime.min


@dataclass(frozen=True)
class VexImportResult:
    vex_import: VexImport
    created: bool
    """False: this delivery was imported before (processing it again changes nothing)."""

    @property
    def counts(self) -> bool:
        return self.vex_import.superseded_by_id is None

    def as_dict(self) -> dict:
        row = self.vex_import
        return {
            "delivery": row.delivery_id,
            "vex_import": row.pk,
            "format": row.format,
            "document_id": row.document_id,
            "author": row.author,
            "version": row.version,
            "statements": row.statement_count,
            "superseded": not self.counts,
        }


def _order(row: VexImport) -> tuple:
    issued = row.issued_at.replace(tzinfo=None) if row.issued_at else _OLDEST
    return (version_key(row.version), issued, row.pk)


def _supersede(row: VexImport) -> None:
    """Of the current imports of this document (this one included), the newest counts."""
    if not row.document_id:
        return  # a document without an id cannot be told apart from another one
    current = list(
        VexImport.objects.select_for_update()
        .filter(document_id=row.document_id, author=row.author, superseded_by__isnull=True)
        .order_by("id")
    )
    newest = max(current, key=_order)
    older = [r.pk for r in current if r.pk != newest.pk]
    VexImport.objects.filter(pk__in=older).update(superseded_by=newest)
    if row.pk != newest.pk:
        row.superseded_by = newest


def vex_document_import(*, delivery: Delivery, document: VexDocument) -> VexImportResult:
    """Store ``document`` as received in ``delivery``, in one transaction."""
    with transaction.atomic():
        existing = VexImport.objects.filter(delivery=delivery).first()
        if existing is not None:
            return VexImportResult(existing, created=False)
        row = VexImport.objects.create(
            delivery=delivery,
            format=document.format,
            spec_version=clip(document.spec_version, 100),
            document_id=clip(document.document_id, 500),
            author=clip(document.author, 300),
            issued_at=document.timestamp,
            version=clip(document.version, 50),
            link=document.link if len(document.link) <= 500 else "",
            statement_count=len(document.statements),
        )
        statements = [
            VexStatement(
                vex_import=row,
                vulnerability_id=_vulnerability_id(s.vulnerability_id),
                aliases=list(s.aliases),
                status=s.status,
                justification=s.justification,
                original_justification=clip(s.original_justification, 100),
                impact=s.impact,
                action=s.action,
                products=[p.as_dict() for p in s.products],
                subcomponents=list(s.subcomponents),
                issued_at=s.timestamp,
            )
            for s in document.statements
        ]
        created = VexStatement.objects.bulk_create(statements, batch_size=BATCH)
        aliases = [
            VexAlias(statement_id=stored.pk, vulnerability_id=_vulnerability_id(alias))
            for stored, parsed in zip(created, document.statements, strict=True)
            for alias in parsed.aliases
        ]
        VexAlias.objects.bulk_create(aliases, batch_size=BATCH)
        _supersede(row)
    return VexImportResult(row, created=True)
