"""Writes EPSS scores and the KEV catalogue into ThreatIntel: one transaction per file.

Each import is all or nothing: a file that turns out not to be of its format halfway
(a truncated gzip, a broken header) rolls back every row it wrote. Rows it could not
read are skipped and reported in the result. Both files are full snapshots, so a
CVE missing from the new file loses what the old one said (its EPSS score, or its
KEV listing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO

from django.db import transaction
from django.utils import timezone

from findings.models import ThreatIntel

from .parse import EpssReader, ThreatIntelFormatError, parse_kev, text_lines

BATCH_SIZE = 5000
EPSS_FIELDS = ["epss_score", "epss_percentile", "epss_date", "updated_at"]
KEV_FIELDS = [
    "kev",
    "kev_date_added",
    "kev_due_date",
    "kev_ransomware",
    "kev_name",
    "updated_at",
]


@dataclass
class ImportResult:
    feed: str
    """"epss" or "kev"."""
    version: str
    imported: int
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)
    cleared: int = 0
    """Rows that lost their EPSS score / KEV listing because the new file no longer names them."""

    def as_dict(self) -> dict:
        return {
            "feed": self.feed,
            "version": self.version,
            "imported": self.imported,
            "skipped": self.skipped,
            "skipped_examples": self.skipped_examples,
            "cleared": self.cleared,
        }


def _upsert(rows: list[ThreatIntel], fields: list[str]) -> None:
    ThreatIntel.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["vulnerability"], update_fields=fields
    )


def epss_import(*, stream: IO[bytes], batch_size: int = BATCH_SIZE) -> ImportResult:
    """Upsert every score of an EPSS file (gzip or plain), streamed in batches."""
    with transaction.atomic():
        reader = EpssReader(text_lines(stream))
        day = reader.score_date or timezone.localdate()
        imported = 0
        batch: list[ThreatIntel] = []
        for score in reader:
            batch.append(
                ThreatIntel(
                    vulnerability_id=score.cve,
                    epss_score=score.score,
                    epss_percentile=score.percentile,
                    epss_date=day,
                )
            )
            if len(batch) >= batch_size:
                _upsert(batch, EPSS_FIELDS)
                imported += len(batch)
                batch = []
        _upsert(batch, EPSS_FIELDS)
        imported += len(batch)
        if not imported:
            raise ThreatIntelFormatError(
                f"epss: no score could be read ({reader.skipped.count} rows skipped: "
                f"{'; '.join(reader.skipped.examples) or 'the file has no rows'})"
            )
        cleared = (
            ThreatIntel.objects.filter(epss_score__isnull=False)
            .exclude(epss_date=day)
            .update(epss_score=None, epss_percentile=None, epss_date=None)
        )
    return ImportResult(
        feed="epss",
        version=" ".join(filter(None, [reader.model_version, day.isoformat()])),
        imported=imported,
        skipped=reader.skipped.count,
        skipped_examples=reader.skipped.examples,
        cleared=cleared,
    )


def kev_import(*, data: bytes) -> ImportResult:
    """Mark every CVE of CISA's catalogue as known exploited; unmark those it dropped."""
    catalog = parse_kev(data)
    if not catalog.entries:
        raise ThreatIntelFormatError(
            f"kev: the catalogue lists no usable entry ({catalog.skipped.count} skipped)"
        )
    listed = {e.cve for e in catalog.entries}
    with transaction.atomic():
        rows = [
            ThreatIntel(
                vulnerability_id=e.cve,
                kev=True,
                kev_date_added=e.date_added,
                kev_due_date=e.due_date,
                kev_ransomware=e.ransomware,
                kev_name=e.name,
            )
            for e in catalog.entries
        ]
        for start in range(0, len(rows), BATCH_SIZE):
            _upsert(rows[start : start + BATCH_SIZE], KEV_FIELDS)
        dropped = [
            pk
            for pk in ThreatIntel.objects.filter(kev=True).values_list("pk", flat=True)
            if pk not in listed
        ]
        cleared = 0
        for start in range(0, len(dropped), 500):
            cleared += ThreatIntel.objects.filter(pk__in=dropped[start : start + 500]).update(
                kev=False,
                kev_date_added=None,
                kev_due_date=None,
                kev_ransomware="",
                kev_name="",
            )
    return ImportResult(
        feed="kev",
        version=catalog.version,
        imported=len(rows),
        skipped=catalog.skipped.count,
        skipped_examples=catalog.skipped.examples,
        cleared=cleared,
    )
