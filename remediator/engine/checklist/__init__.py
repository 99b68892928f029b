"""The go-live checklist: what is configured, what is missing, and the one link or
command that fixes each (the dashboard's /setup/ page and ``manage.py check_setup``)."""

from __future__ import annotations

from .admission import admission_items
from .configuration import (
    aqua_item,
    base_url_item,
    notification_item,
    threat_intel_items,
    webhook_items,
)
from .items import Checklist, Item, Status
from .pings import Pings, setup_pings_read
from .targets import target_items, uncovered_item

__all__ = ["Checklist", "Item", "Pings", "Status", "setup_checklist"]


def setup_checklist(*, serving: str = "", pings: Pings | None = None) -> Checklist:
    """Every item. ``serving``: the address a request came to (compared with BASE_URL);
    ``pings``: reachability answers (default: the stored ones)."""
    if pings is None:
        pings = setup_pings_read()
    items = [
        *webhook_items(),
        *target_items(pings),
        uncovered_item(),
        *admission_items(),
        base_url_item(serving),
        *threat_intel_items(),
        notification_item(),
        aqua_item(pings),
    ]
    return Checklist(items=items)
