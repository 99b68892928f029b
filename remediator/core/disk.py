"""Defaults that depend on the disk the process finds at start. Pure: no Django."""

from __future__ import annotations

import shutil
from pathlib import Path

GIB = 1024**3


def default_spool_max_bytes(directory: Path) -> int:
    """1 GiB, or a tenth of the filesystem that holds ``directory`` when that is smaller:
    the spool must never fill a disk the database, the broker or the logs may share."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        total = shutil.disk_usage(existing).total
    except OSError:
        return GIB
    return max(1, min(GIB, total // 10))
