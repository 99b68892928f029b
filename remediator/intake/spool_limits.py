"""What keeps the webhook spool from growing without end: a cap on its bytes, and one
file per body however often it is posted during an outage.

- Cap: ``WEBHOOK_SPOOL_MAX_BYTES`` (default 1 GiB, or a tenth of the spool's
  filesystem when that is smaller: ``remediator/core/disk.py``). A body that would
  take the spool's files past it is not kept (:class:`SpoolFull`); the receiver
  answers 503 with Retry-After and the sender sends it again later. The count is of
  the spool files present when the body arrives: posts spooled at the same instant by
  several processes may pass the cap by their own sizes.
- One file per body: ``index/<key>`` names the spool file that holds a body, the key
  being the sha256 of the body's sha256, its source and its ``?image=`` (the same bytes
  with another source or image hint may be taken up differently by ``delivery_store``,
  so they are kept apart). A body whose key names a file still waiting is not written
  again: the receiver answers 202 with that file's spool id. The index is a hint, not a
  record: a missing or stale entry costs at most a second file, which the replay stores
  as a duplicate delivery of nothing (``delivery_store`` de-duplicates by sha256).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

INDEX = "index"
SUFFIX = ".spool"


class SpoolFull(Exception):
    """The body would take the spool past WEBHOOK_SPOOL_MAX_BYTES: it is not kept."""


def spool_key(*, sha256: str, source: str, image_hint: str) -> str:
    return hashlib.sha256(f"{sha256}\0{source}\0{image_hint}".encode()).hexdigest()


def pending_bytes(directory: Path) -> int:
    """Bytes of the spool files waiting for replay."""
    total = 0
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(SUFFIX):
                    with contextlib.suppress(OSError):  # replayed and removed meanwhile
                        total += entry.stat().st_size
    except OSError:
        return 0
    return total


def spooled_already(directory: Path, key: str) -> str:
    """The spool id of the waiting file that holds this body, or ''."""
    try:
        spool_id = (directory / INDEX / key).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return spool_id if spool_id and (directory / f"{spool_id}{SUFFIX}").exists() else ""


def index_add(directory: Path, key: str, spool_id: str) -> None:
    """Name ``spool_id`` as the file holding this body (atomic replace; not fsynced:
    losing an entry in a crash costs one duplicate file, never a body)."""
    index = directory / INDEX
    index.mkdir(exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=index)
    with os.fdopen(fd, "w") as handle:
        handle.write(spool_id)
    os.replace(temp, index / key)


def index_remove(directory: Path, key: str, spool_id: str) -> None:
    """Forget the entry once its file is replayed (only if it still names that file)."""
    marker = directory / INDEX / key
    with contextlib.suppress(OSError):
        if marker.read_text().strip() == spool_id:
            marker.unlink(missing_ok=True)
