"""The webhook spool: bodies the database could not store, kept on disk until it can.

Interface (for operators and the fault suite):

- Directory: ``settings.WEBHOOK_SPOOL_DIR`` (env ``WEBHOOK_SPOOL_DIR``, default
  ``$DATA_DIR/spool``). One file per body, ``<spool id>.spool``; the spool id is
  ``<UTC receive time>-<source>-<sha256 prefix>-<random>`` and is what the 202
  answer names. ``.tmp-*`` files are writes in progress (or from a process that
  died before answering: removed after an hour). ``bad/`` holds files that fail
  their checksum, kept for a person to look at.
- File format: the line ``REMEDIATOR-SPOOL 1``, one line of JSON (source,
  external_id, content_type, headers with the auth method, image_hint,
  received_at, sha256, size), then the body exactly as received.
- Durability: written to a temporary file, fsynced, renamed into place, and the
  directory fsynced, before the sender gets its 202.
- Replay: :func:`spool_replay`, run by the beat task ``findings.spool_replay``
  (every ``WEBHOOK_SPOOL_REPLAY_INTERVAL`` seconds), by ``manage.py spool_replay``
  and, within a small time budget, by the next webhook request that stores a body.
  Each file becomes a Delivery through :func:`delivery_store` (a repeat of a
  stored body, by sha256 or sender id, is a no-op), is handed to the broker (or
  left queued for the delivery sweep), and only then is the file removed.
  Replayers on several processes take a file each (``flock``), never the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils.dateparse import parse_datetime

from remediator.core.metrics import SPOOL_REPLAYED

from .deliveries import delivery_enqueue, delivery_store

logger = logging.getLogger(__name__)

MAGIC = b"REMEDIATOR-SPOOL 1\n"
SUFFIX = ".spool"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600
DATABASE_DOWN = (OperationalError, InterfaceError)
"""What a database that is down, restarting or unreachable raises through Django."""


class SpoolError(OSError):
    """The body could not be written to the spool (disk full, unwritable directory...)."""


def spool_dir() -> Path:
    return Path(settings.WEBHOOK_SPOOL_DIR)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def spool_write(
    *,
    source: str,
    body: bytes,
    external_id: str = "",
    content_type: str = "",
    headers: dict | None = None,
    image_hint: str = "",
    received_at: datetime | None = None,
) -> str:
    """Keep ``body`` and what the receiver knew about it on disk; returns the spool id.

    Raises SpoolError when it cannot be made durable (nothing half-written is left).
    """
    received_at = received_at or datetime.now(UTC)
    sha256 = hashlib.sha256(body).hexdigest()
    stamp = received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    spool_id = f"{stamp}-{source}-{sha256[:12]}-{secrets.token_hex(4)}"
    meta = {
        "id": spool_id,
        "source": source,
        "external_id": external_id,
        "content_type": content_type,
        "headers": headers or {},
        "image_hint": image_hint,
        "received_at": received_at.isoformat(),
        "sha256": sha256,
        "size": len(body),
    }
    directory = spool_dir()
    temp = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(MAGIC)
            handle.write(json.dumps(meta, separators=(",", ":")).encode() + b"\n")
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp, directory / f"{spool_id}{SUFFIX}")
        temp = None
        _fsync_dir(directory)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise SpoolError(f"cannot spool to {directory}: {exc.strerror or exc}") from exc
    return spool_id


@dataclass
class SpoolEntry:
    meta: dict
    body: bytes


def spool_read(path: Path) -> SpoolEntry:
    """Read and check one spool file; ValueError when it is not a whole, intact one."""
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        raise ValueError("not a spool file")
    meta_line, newline, body = data[len(MAGIC) :].partition(b"\n")
    if not newline:
        raise ValueError("no metadata line")
    meta = json.loads(meta_line)
    if len(body) != meta.get("size") or hashlib.sha256(body).hexdigest() != meta.get("sha256"):
        raise ValueError("the body does not match its size or sha256")
    return SpoolEntry(meta=meta, body=body)


def spool_pending() -> list[Path]:
    """Spool files waiting for replay, oldest first (names start with the receive time)."""
    try:
        return sorted(spool_dir().glob(f"*{SUFFIX}"))
    except OSError:
        return []


def spool_has_files() -> bool:
    """Cheap: stops at the first spool file."""
    try:
        with os.scandir(spool_dir()) as entries:
            return any(entry.name.endswith(SUFFIX) for entry in entries)
    except OSError:
        return False


@dataclass
class SpoolStats:
    files: int = 0
    bytes: int = 0
    oldest_age: float = 0.0


def spool_stats() -> SpoolStats:
    stats, now = SpoolStats(), time.time()
    for path in spool_pending():
        try:
            info = path.stat()
        except OSError:
            continue
        stats.files += 1
        stats.bytes += info.st_size
        stats.oldest_age = max(stats.oldest_age, now - info.st_mtime)
    return stats


def spool_writable() -> str:
    """'' when a file can be written, fsynced and removed in the spool, else why not."""
    directory = spool_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=TEMP_PREFIX, dir=directory) as probe:
            probe.write(b"probe")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return ""


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
            delivery_enqueue(delivery_id=delivery_id)  # False: left queued for the sweep
            outcome.stored.append(delivery_id)
            SPOOL_REPLAYED.labels(outcome="stored").inc()
        else:
            outcome.duplicates.append(delivery_id)
            SPOOL_REPLAYED.labels(outcome="duplicate").inc()
        path.unlink(missing_ok=True)
        _fsync_dir(path.parent)
        logger.info("spool %s -> delivery %s", entry.meta.get("id"), delivery_id)
    finally:
        os.close(fd)


def _store(entry: SpoolEntry) -> tuple[int, bool]:
    meta = entry.meta
    received_at = parse_datetime(meta.get("received_at") or "")
    delivery, created = delivery_store(
        source=meta["source"],
        body=entry.body,
        external_id=meta.get("external_id") or "",
        content_type=meta.get("content_type") or "",
        headers={**(meta.get("headers") or {}), "spooled": meta.get("id", "")},
        image_hint=meta.get("image_hint") or "",
        channel="webhook",
        received_at=received_at,
    )
    return delivery.pk, created


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
