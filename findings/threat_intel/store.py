"""Writes EPSS scores and the KEV catalogue into ThreatIntel: one transaction per file.

Each import is all or nothing: a file that turns out not to be of its format halfway
(a truncated gzip, a broken header) rolls back every row it wrote. Rows it could not
read are skipped and reported in the result. Both files are full snapshots, so a
CVE missing from the new file loses what the old one said (its EPSS score, or its
KEV listing) -- which is why a file that is not a believable snapshot (``sanity``) is
refused with :class:`ThreatIntelRefused` unless ``force``, and rolls back too.
ThreatIntelFeed keeps what is in place per feed (release, size, when imported) and
the last refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from findings.models import ThreatIntel, ThreatIntelFeed

from .parse import EpssReader, ThreatIntelFormatError, day_start, parse_kev, text_lines
from .sanity import Current, Limits, Snapshot, ThreatIntelRefused, early_refusal, refusal

BATCH_SIZE = 5000
DEFAULT_LIMITS = Limits()
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
    forced: str = ""
    """The sanity rule ``--force`` overrode ("shrunk", "stale"...), or ""."""

    def as_dict(self) -> dict:
        return {
            "feed": self.feed,
            "version": self.version,
            "imported": self.imported,
            "skipped": self.skipped,
            "skipped_examples": self.skipped_examples,
            "cleared": self.cleared,
            "forced": self.forced,
        }


def _current(feed: str) -> Current:
    """The snapshot in place, its feed row locked until the import's transaction ends."""
    row = ThreatIntelFeed.objects.select_for_update().filter(feed=feed).first()
    if feed == "kev":
        return Current(
            rows=ThreatIntel.objects.filter(kev=True).count(),
            released=row.released_at if row else None,
        )
    scored = ThreatIntel.objects.filter(epss_score__isnull=False)
    released = row.released_at if row else day_start(scored.aggregate(d=Max("epss_date"))["d"])
    return Current(rows=scored.count(), released=released)


def _check(problem: ThreatIntelRefused | None, force: bool) -> str:
    """Raise ``problem`` unless forced; the overridden reason, or ""."""
    if problem is None:
        return ""
    if not force:
        raise problem
    return problem.reason


def _feed_imported(
    feed: str, *, version: str, released: datetime | None, rows: int
) -> ThreatIntelFeed:
    return ThreatIntelFeed.objects.update_or_create(
        feed=feed,
        defaults={
            "version": version[:60],
            "released_at": released,
            "rows": rows,
            "imported_at": timezone.now(),
        },
    )[0]


def feed_refusal_record(*, feed: str, reason: str, detail: str) -> None:
    """Remember the last refused import of ``feed`` (the snapshot in place is untouched)."""
    ThreatIntelFeed.objects.update_or_create(
        feed=feed,
        defaults={
            "refused_at": timezone.now(),
            "refused_reason": reason[:20],
            "refused_detail": detail[:500],
        },
    )


def _upsert(rows: list[ThreatIntel], fields: list[str]) -> None:
    ThreatIntel.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["vulnerability"], update_fields=fields
    )


def epss_import(
    *,
    stream: IO[bytes],
    batch_size: int = BATCH_SIZE,
    limits: Limits = DEFAULT_LIMITS,
    force: bool = False,
) -> ImportResult:
    """Upsert every score of an EPSS file (gzip or plain), streamed in batches.

    Raises ThreatIntelFormatError (not an EPSS file) or ThreatIntelRefused (not a
    believable snapshot, unless ``force``); either way nothing is changed.
    """
    now = timezone.now()
    with transaction.atomic():
        reader = EpssReader(text_lines(stream))
        current = _current("epss")
        released = day_start(reader.score_date)
        head = Snapshot("epss", rows=0, released=released)
        forced = _check(early_refusal(head, current, now=now), force)
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
        snapshot = Snapshot("epss", rows=imported, skipped=reader.skipped.count, released=released)
        forced = _check(refusal(snapshot, current, limits, now=now), force) or forced
        cleared = (
            ThreatIntel.objects.filter(epss_score__isnull=False)
            .exclude(epss_date=day)
            .update(epss_score=None, epss_percentile=None, epss_date=None)
        )
        version = " ".join(filter(None, [reader.model_version, day.isoformat()]))
        _feed_imported("epss", version=version, released=released, rows=imported)
    return ImportResult(
        feed="epss",
        version=version,
        imported=imported,
        skipped=reader.skipped.count,
        skipped_examples=reader.skipped.examples,
        cleared=cleared,
        forced=forced,
    )


def kev_import(
    *, data: bytes, limits: Limits = DEFAULT_LIMITS, force: bool = False
) -> ImportResult:
    """Mark every CVE of CISA's catalogue as known exploited; unmark those it dropped.

    Raises ThreatIntelFormatError (not the catalogue) or ThreatIntelRefused (not a
    believable snapshot, unless ``force``); either way nothing is changed.
    """
    catalog = parse_kev(data)
    if not catalog.entries:
        raise ThreatIntelFormatError(
            f"kev: the catalogue lists no usable entry ({catalog.skipped.count} skipped)"
        )
    listed = {e.cve for e in catalog.entries}
    snapshot = Snapshot(
        "kev",
        rows=len(catalog.entries),
        skipped=catalog.skipped.count,
        listed=catalog.listed,
        declared=catalog.declared,
        released=catalog.released_at,
    )
    with transaction.atomic():
        forced = _check(refusal(snapshot, _current("kev"), limits, now=timezone.now()), force)
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
        _feed_imported("kev", version=catalog.version, released=snapshot.released, rows=len(rows))
    return ImportResult(
        feed="kev",
        version=catalog.version,
        imported=len(rows),
        skipped=catalog.skipped.count,
        skipped_examples=catalog.skipped.examples,
        cleared=cleared,
        forced=forced,
    )
