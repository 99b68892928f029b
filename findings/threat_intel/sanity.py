"""Whether a readable EPSS or KEV file is a believable snapshot. Pure: no Django.

Both feeds are full snapshots: importing one replaces what the last one said. So a
file that is readable but wrong (cut short, mostly garbage, an old copy) would wipe
good data, and a ``kev`` admission policy would stop blocking log4shell. A snapshot
is refused, and nothing changes, when:

- ``count``: it contradicts its own declared size (KEV's ``count`` is not the number of
  entries in ``vulnerabilities[]``; EPSS declares none);
- ``skipped``: more than ``max_skipped`` of its rows cannot be read (real files have
  none: a format change or a corrupted file);
- ``future``: it says it was released more than a day from now (it would make every
  true snapshot after it look stale);
- ``stale``: it is older than the snapshot in place (KEV ``dateReleased``, EPSS
  ``score_date``): a mirror or a cache serving yesterday's file;
- ``shrunk``: it holds fewer than ``min_retained`` of the current snapshot's CVEs
  (KEV only grows; EPSS scores every published CVE, a number that grows daily).

``--force`` (``force=True``) imports it anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

REASONS = ("count", "skipped", "future", "stale", "shrunk")
FUTURE_SLACK = timedelta(days=1)
"""Clocks and time zones: EPSS dates its file by the UTC day it was scored."""


class ThreatIntelRefused(Exception):
    """A readable file that is not a believable snapshot; nothing of it was imported."""

    def __init__(self, feed: str, reason: str, detail: str) -> None:
        self.feed = feed
        self.reason = reason
        self.detail = detail.removeprefix(f"{feed}: ")
        hint = "; --force imports it anyway" if reason in REASONS else ""
        super().__init__(f"{feed}: refused ({reason}): {self.detail}{hint}")

    def as_dict(self) -> dict:
        return {"feed": self.feed, "refused": self.reason, "detail": self.detail}


@dataclass(frozen=True)
class Limits:
    max_skipped: float = 0.01
    """Largest fraction of a file's rows that may be unreadable."""
    min_retained: float = 0.9
    """Smallest size of a new snapshot, as a fraction of the current one's."""


@dataclass(frozen=True)
class Snapshot:
    """What a file is: its usable rows, its unreadable ones, what it says of itself."""

    feed: str
    rows: int
    skipped: int = 0
    listed: int | None = None
    """Entries the file lists, readable or not (KEV); None when it declares no count."""
    declared: int | None = None
    """The size the file declares (KEV ``count``; -1: present but not a count)."""
    released: datetime | None = None


@dataclass(frozen=True)
class Current:
    """The snapshot in place: its CVEs and its release (None when unknown)."""

    rows: int = 0
    released: datetime | None = None


PLURALS = {"entry": "entries"}


def _unit(noun: str, n: int) -> str:
    return f"{n:,} {noun if n == 1 else PLURALS.get(noun, noun + 's')}"


def early_refusal(
    snapshot: Snapshot, current: Current, *, now: datetime
) -> ThreatIntelRefused | None:
    """What can be said from a file's head alone (its release): future or stale."""
    released = snapshot.released
    if released is None:
        return None
    if released > now + FUTURE_SLACK:
        return ThreatIntelRefused(
            snapshot.feed, "future", f"it is dated {released:%Y-%m-%d %H:%M} UTC, after today"
        )
    if current.released is not None and released < current.released:
        return ThreatIntelRefused(
            snapshot.feed,
            "stale",
            f"it is dated {released:%Y-%m-%d %H:%M} UTC, older than the current snapshot "
            f"({current.released:%Y-%m-%d %H:%M} UTC)",
        )
    return None


def refusal(
    snapshot: Snapshot, current: Current, limits: Limits, *, now: datetime
) -> ThreatIntelRefused | None:
    """Why ``snapshot`` must not replace ``current``, or None when it may."""
    feed = snapshot.feed
    noun = "entry" if feed == "kev" else "row"
    if snapshot.declared is not None and snapshot.declared != snapshot.listed:
        declared = "no count" if snapshot.declared < 0 else _unit(noun, snapshot.declared)
        found = _unit(noun, snapshot.listed or 0)
        return ThreatIntelRefused(feed, "count", f"it declares {declared} but lists {found}")
    total = snapshot.rows + snapshot.skipped
    if total and snapshot.skipped > limits.max_skipped * total:
        return ThreatIntelRefused(
            feed,
            "skipped",
            f"{_unit(noun, snapshot.skipped)} of {total:,} cannot be read "
            f"(more than {limits.max_skipped:.1%})",
        )
    early = early_refusal(snapshot, current, now=now)
    if early is not None:
        return early
    if current.rows and snapshot.rows < limits.min_retained * current.rows:
        return ThreatIntelRefused(
            feed,
            "shrunk",
            f"it holds {_unit('CVE', snapshot.rows)} against {current.rows:,} in the current "
            f"snapshot (fewer than {limits.min_retained:.0%})",
        )
    return None
