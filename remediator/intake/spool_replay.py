"""Replay of the webhook spool (``spool.py``): each file becomes a delivery, oldest first.

Run by beat's ``findings.spool_replay`` task, ``manage.py spool_replay`` and, within a
small time budget, the next webhook request that stores a body (``spool_replay_soon``:
at most once every ``WEBHOOK_SPOOL_INLINE_EVERY`` seconds, one directory listing, for up
to ``WEBHOOK_SPOOL_INLINE_BUDGET`` seconds, so that a web machine whose spool the worker
cannot see drains it too). A file is received like any webhook body
(:func:`delivery_receive`: a body or sender id already stored is a no-op), handed to the
broker or left queued for the sweep, and only then removed (with its index entry).
Replayers on several processes take a file each (``flock``), never the same.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.dateparse import parse_datetime

from remediator.core.metrics import SPOOL_REPLAYED

from .receive import Outcome, Then, delivery_receive
from .spool import (
    DATABASE_DOWN,
    STALE_TEMP_SECONDS,
    TEMP_PREFIX,
    SpoolEntry,
    fsync_dir,
    spool_dir,
    spool_has_files,
    spool_pending,
    spool_read,
)
from .spool_limits import index_remove, spool_key

logger = logging.getLogger(__name__)


@dataclass
class SpoolReplay:
    stored: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    bad: int = 0
    skipped: int = 0
    database_down: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def spool_replay(*, limit: int | None = None, budget: float | None = None) -> SpoolReplay:
    """Store spooled bodies as deliveries, oldest first; stops when the database is down.

    ``limit`` caps the files, ``budget`` the seconds spent (the inline replay of a request).
    """
    outcome, started = SpoolReplay(), time.monotonic()
    _remove_stale_temps()
    for done, path in enumerate(spool_pending()):
        if limit is not None and done >= limit:
            break
        if budget is not None and time.monotonic() - started > budget:
            break
        try:
            _replay_file(path, outcome)
        except DATABASE_DOWN as exc:
            logger.warning("spool replay stopped, the database is still down: %s", exc)
            outcome.database_down = True
            break
    return outcome


def _replay_file(path: Path, outcome: SpoolReplay) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # another replayer finished it
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            outcome.skipped += 1  # another replayer has it now
            return
        if os.fstat(fd).st_nlink == 0:  # finished and removed while we waited
            return
        try:
            entry = spool_read(path)
        except (ValueError, OSError) as exc:
            _set_aside(path, exc)
            outcome.bad += 1
            return
        delivery_id, created = _store(entry)
        if created:
            outcome.stored.append(delivery_id)
            SPOOL_REPLAYED.labels(outcome="stored").inc()
        else:
            outcome.duplicates.append(delivery_id)
            SPOOL_REPLAYED.labels(outcome="duplicate").inc()
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)
        _forget(path.parent, entry.meta)
        logger.info("spool %s -> delivery %s", entry.meta.get("id"), delivery_id)
    finally:
        os.close(fd)


def _store(entry: SpoolEntry) -> tuple[int, bool]:
    """Received as the webhook body it was, at the time it arrived; queued if new."""
    meta = entry.meta
    received_at = parse_datetime(meta.get("received_at") or "")
    receipt = delivery_receive(
        source=meta["source"],
        body=entry.body,
        external_id=meta.get("external_id") or "",
        content_type=meta.get("content_type") or "",
        headers={**(meta.get("headers") or {}), "spooled": meta.get("id", "")},
        image_hint=meta.get("image_hint") or "",
        channel="webhook",
        received_at=received_at,
        then=Then.QUEUE,
    )
    return receipt.delivery.pk, receipt.outcome is Outcome.QUEUED  # stored, or raised


def _forget(directory: Path, meta: dict) -> None:
    key = spool_key(
        sha256=str(meta.get("sha256", "")),
        source=str(meta.get("source", "")),
        image_hint=str(meta.get("image_hint") or ""),
    )
    index_remove(directory, key, str(meta.get("id", "")))


def _set_aside(path: Path, reason: Exception) -> None:
    logger.error("spool file %s is damaged (%s): moved to bad/", path.name, reason)
    bad = path.parent / "bad"
    try:
        bad.mkdir(exist_ok=True)
        os.rename(path, bad / path.name)
    except OSError:
        logger.exception("cannot move %s aside", path.name)
    SPOOL_REPLAYED.labels(outcome="bad").inc()


def _remove_stale_temps() -> None:
    """A temp file older than an hour belongs to a process that died before answering:
    its sender got no 202 and will have retried or been told of the failure."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    try:
        for path in spool_dir().glob(f"{TEMP_PREFIX}*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
    except OSError:
        pass


_last_inline_replay = 0.0


def spool_replay_soon() -> None:
    """After a webhook body was stored: cheap when the spool is empty; else replay a
    little of it in this request."""
    global _last_inline_replay
    now = time.monotonic()
    if now - _last_inline_replay < settings.WEBHOOK_SPOOL_INLINE_EVERY:
        return
    _last_inline_replay = now
    if not spool_has_files():
        return
    try:
        spool_replay(budget=settings.WEBHOOK_SPOOL_INLINE_BUDGET)
    except Exception:  # the sender's body is stored: never fail its answer for the spool
        logger.exception("inline spool replay failed (beat's findings.spool_replay will retry)")
