"""Imports EPSS scores and the KEV catalogue from files or URLs (command, beat task)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import IO

from django.conf import settings

from findings.threat_intel.store import ImportResult, epss_import, kev_import
from remediator.engine.admission.facts import admission_cache_bump
from remediator.engine.audit import audit_record
from remediator.integrations.threat_intel.client import feed_download


def _open(source: str) -> IO[bytes]:
    """A URL is downloaded (outbound rules, timeouts, audited); anything else is a path."""
    if source.startswith(("http://", "https://")):
        return feed_download(source)
    return Path(source).open("rb")


def threat_intel_import(*, epss: str = "", kev: str = "") -> list[ImportResult]:
    """Import the EPSS file and/or the KEV catalogue named by path or URL, EPSS first.

    Raises ``ThreatIntelFormatError`` (bad file: nothing of it imported), ``OSError``
    (unreadable path) or ``ProviderError`` (download failed).
    """
    results = []
    if epss:
        with closing(_open(epss)) as stream:
            results.append(epss_import(stream=stream))
    if kev:
        with closing(_open(kev)) as stream:
            results.append(kev_import(data=stream.read()))
    for result in results:
        audit_record(
            kind="config",
            actor_label="system",
            message=(
                f"{result.feed} {result.version}: {result.imported} imported, "
                f"{result.skipped} skipped, {result.cleared} cleared"
            ),
            data=result.as_dict(),
        )
    if results:
        admission_cache_bump()  # bulk upserts send no post_save: KEV/EPSS rules read these
    return results


def threat_intel_refresh() -> list[ImportResult]:
    """Beat: import from EPSS_URL and KEV_URL (each skipped when empty)."""
    return threat_intel_import(epss=settings.EPSS_URL, kev=settings.KEV_URL)
