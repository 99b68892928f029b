"""Imports EPSS scores and the KEV catalogue from files or URLs (command, beat task).

Each feed is imported on its own: a refused EPSS file does not hold back a good KEV
catalogue. A refusal (a file that is not a believable snapshot, not of its format, or
not downloaded in time) changes no intelligence; it is recorded on the feed
(ThreatIntelFeed: what pages show), as an AuditEvent and in the metric
``remediator_threat_intel_refused_total{feed,reason}``.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from findings.models import ThreatIntel
from findings.threat_intel.parse import MAX_TEXT_BYTES, ThreatIntelFormatError
from findings.threat_intel.sanity import Limits, ThreatIntelRefused
from findings.threat_intel.store import (
    ImportResult,
    epss_import,
    feed_refusal_record,
    kev_import,
)
from remediator.core.errors import ProviderError
from remediator.core.metrics import threat_intel_refused_count
from remediator.engine.admission.cache import admission_cache_bump
from remediator.engine.audit import audit_record
from remediator.integrations.threat_intel.client import feed_download

from .deadlines import vulnerabilities_due_dates_refresh

FEEDS = ("epss", "kev")
FAILURES = (ThreatIntelRefused, ThreatIntelFormatError, ProviderError, OSError)


@dataclass
class ImportOutcome:
    """What became of each feed named: imported, or refused and why."""

    results: list[ImportResult] = field(default_factory=list)
    refused: list[ThreatIntelRefused] = field(default_factory=list)

    def as_dicts(self) -> list[dict]:
        return [r.as_dict() for r in self.results] + [r.as_dict() for r in self.refused]


def _open(source: str) -> IO[bytes]:
    """A URL is downloaded (outbound rules, timeouts, deadline, audited); else a path."""
    if source.startswith(("http://", "https://")):
        return feed_download(source, deadline=settings.THREAT_INTEL_DOWNLOAD_DEADLINE)
    return Path(source).open("rb")


def _limits() -> Limits:
    return Limits(
        max_skipped=settings.THREAT_INTEL_MAX_SKIPPED,
        min_retained=settings.THREAT_INTEL_MIN_RETAINED,
    )


def kev_due_dates() -> dict[str, object]:
    """{vulnerability id: KEV due date} of every catalogued vulnerability with one."""
    rows = ThreatIntel.objects.filter(kev_due_date__isnull=False)
    return dict(rows.values_list("vulnerability_id", "kev_due_date"))


def _import_one(feed: str, source: str, *, force: bool) -> ImportResult:
    with closing(_open(source)) as stream:
        if feed == "epss":
            return epss_import(stream=stream, limits=_limits(), force=force)
        data = stream.read(MAX_TEXT_BYTES + 1)
        before = kev_due_dates()
        result = kev_import(data=data, limits=_limits(), force=force)
        after = kev_due_dates()
        changed = {cve for cve in before.keys() | after.keys() if before.get(cve) != after.get(cve)}
        vulnerabilities_due_dates_refresh(changed)  # the KEV date caps their deadlines
        return result


def _as_refusal(feed: str, exc: Exception) -> ThreatIntelRefused:
    if isinstance(exc, ThreatIntelRefused):
        return exc
    if isinstance(exc, ThreatIntelFormatError):
        return ThreatIntelRefused(feed, "format", str(exc))
    if isinstance(exc, ProviderError):
        return ThreatIntelRefused(feed, "download", str(exc))
    return ThreatIntelRefused(feed, "unreadable", f"{type(exc).__name__}: {exc}")


def _record_refusal(refused: ThreatIntelRefused) -> None:
    feed_refusal_record(feed=refused.feed, reason=refused.reason, detail=refused.detail)
    audit_record(
        kind="config",
        actor_label="system",
        message=f"{refused.feed} import refused ({refused.reason}): {refused.detail}"[:1000],
        data=refused.as_dict(),
    )
    threat_intel_refused_count(refused.feed, refused.reason)


def _record_import(result: ImportResult) -> None:
    forced = f" (forced past: {result.forced})" if result.forced else ""
    audit_record(
        kind="config",
        actor_label="system",
        message=(
            f"{result.feed} {result.version}: {result.imported} imported, "
            f"{result.skipped} skipped, {result.cleared} cleared{forced}"
        ),
        data=result.as_dict(),
    )


def threat_intel_import(*, epss: str = "", kev: str = "", force: bool = False) -> ImportOutcome:
    """Import the EPSS file and/or the KEV catalogue named by path or URL, EPSS first,
    each on its own. ``force`` imports a snapshot the sanity rules would refuse (a file
    not of its format is refused all the same)."""
    outcome = ImportOutcome()
    for feed, source in zip(FEEDS, (epss, kev), strict=True):
        if not source:
            continue
        try:
            result = _import_one(feed, source, force=force)
        except FAILURES as exc:
            refused = _as_refusal(feed, exc)
            _record_refusal(refused)
            outcome.refused.append(refused)
            continue
        except SoftTimeLimitExceeded:  # the beat task's time limit: the import rolled back
            _record_refusal(
                ThreatIntelRefused(feed, "time_limit", "the import did not finish in time")
            )
            raise
        _record_import(result)
        outcome.results.append(result)
    if outcome.results:
        admission_cache_bump()  # bulk upserts send no post_save: KEV/EPSS rules read these
    return outcome


def threat_intel_refresh() -> ImportOutcome:
    """Beat: import from EPSS_URL and KEV_URL (each skipped when empty)."""
    return threat_intel_import(epss=settings.EPSS_URL, kev=settings.KEV_URL)
