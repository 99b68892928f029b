"""The webhook spool: bodies the database could not store, kept on disk until it can.

Interface (for operators and the fault suite):

- Directory: ``settings.WEBHOOK_SPOOL_DIR`` (env ``WEBHOOK_SPOOL_DIR``, default
  ``$DATA_DIR/spool``). One file per body, ``<spool id>.spool``; the spool id is
  ``<UTC receive time>-<source>-<sha256 prefix>-<random>`` and is what the 202
  answer names. ``.tmp-*`` files are writes in progress (or from a process that
  died before answering: removed after an hour). ``bad/`` holds files that fail
  their checksum, kept for a person to look at. ``index/`` names the file that holds
  each body, so that a body posted again during an outage is not written twice.
- Limits (``spool_limits.py``): at most ``WEBHOOK_SPOOL_MAX_BYTES`` of files; past it a
  body is not kept (SpoolFull, the receiver answers 503 and the sender retries).
- File format: the line ``REMEDIATOR-SPOOL 1``, one line of JSON (source,
  external_id, content_type, headers with the auth method, image_hint,
  received_at, sha256, size), then the body exactly as received.
- Durability: written to a temporary file, fsynced, renamed into place, and the
  directory fsynced, before the sender gets its 202.
- Replay: ``spool_replay.py``, by beat (every ``WEBHOOK_SPOOL_REPLAY_INTERVAL``
  seconds), ``manage.py spool_replay`` and the next webhook request that stores a body.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError

from .spool_limits import SUFFIX, SpoolFull, index_add, pending_bytes, spool_key, spooled_already

logger = logging.getLogger(__name__)

MAGIC = b"REMEDIATOR-SPOOL 1\n"
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600
DATABASE_DOWN = (OperationalError, InterfaceError)
"""What a database that is down, restarting or unreachable raises through Django."""


class SpoolError(OSError):
    """The body could not be written to the spool (disk full, unwritable directory...)."""


def spool_dir() -> Path:
    return Path(settings.WEBHOOK_SPOOL_DIR)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Spooled:
    spool_id: str
    duplicate: bool = False
    """A waiting file held these bytes already (same source and ``?image=``): not written."""


def spool_keep(
    *,
    source: str,
    body: bytes,
    external_id: str = "",
    content_type: str = "",
    headers: dict | None = None,
    image_hint: str = "",
    received_at: datetime | None = None,
) -> Spooled:
    """Keep ``body`` and what the receiver knew about it on disk, once (``spool_limits.py``).

    Raises SpoolFull past WEBHOOK_SPOOL_MAX_BYTES, SpoolError when the body cannot be made
    durable (nothing half-written is left either way).
    """
    sha256 = hashlib.sha256(body).hexdigest()
    directory = spool_dir()
    key = spool_key(sha256=sha256, source=source, image_hint=image_hint)
    existing = spooled_already(directory, key)
    if existing:
        return Spooled(existing, duplicate=True)
    held, cap = pending_bytes(directory), settings.WEBHOOK_SPOOL_MAX_BYTES
    if held + len(body) > cap:
        raise SpoolFull(
            f"the spool holds {held} bytes; this body of {len(body)} would pass "
            f"WEBHOOK_SPOOL_MAX_BYTES ({cap})"
        )
    received_at = received_at or datetime.now(UTC)
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
    _write_durably(directory, spool_id, meta, body)
    try:
        index_add(directory, key, spool_id)
    except OSError as exc:  # the body is safe; only de-duplication of a repeat is lost
        logger.warning("spool index not updated for %s: %s", spool_id, exc)
    return Spooled(spool_id)


def spool_write(**fields) -> str:
    """:func:`spool_keep` (same arguments); returns the id of the file holding the body."""
    return spool_keep(**fields).spool_id


def _write_durably(directory: Path, spool_id: str, meta: dict, body: bytes) -> None:
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
        fsync_dir(directory)
    except OSError as exc:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
        raise SpoolError(f"cannot spool to {directory}: {exc.strerror or exc}") from exc


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
