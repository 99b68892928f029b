"""A row the file no longer names, deleted with ``--prune``: one audit event first."""

from __future__ import annotations

from typing import Any

from ..audit import audit_record


def row_delete(obj: Any, *, kind: str, name: str, source: str, dry_run: bool) -> None:
    """Audit and delete ``obj`` (nothing on a dry run)."""
    if dry_run:
        return
    audit_record(
        kind="config", actor_label=f"config:{source}", obj=obj, message=f"deleted {kind} {name}"
    )
    obj.delete()
