"""Thin Celery task of the inventory (beat's hourly expiry).

Its name is kept from the time it lived in ``findings``: beat's schedule, queued messages
and ``CELERY_TASK_ROUTES`` (``findings.*``: housekeeping) carry it."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .inventory import inventory_expire


@shared_task(name="findings.inventory_expire")
def inventory_expire_task() -> int:
    """Beat, hourly: forget containers not seen for INVENTORY_STALE_DAYS."""
    return inventory_expire(days=settings.INVENTORY_STALE_DAYS)
