"""Thin Celery tasks of the store of scans and findings (beat's refreshes and expiries)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .inventory import inventory_expire
from .selectors.overview import overview_refresh


@shared_task(name="findings.overview_refresh")
def overview_refresh_task() -> None:
    """Beat, every DASHBOARD_OVERVIEW_REFRESH_SECONDS: the overview's figures for all processes."""
    overview_refresh()


@shared_task(name="findings.inventory_expire")
def inventory_expire_task() -> int:
    """Beat, hourly: forget containers not seen for INVENTORY_STALE_DAYS."""
    return inventory_expire(days=settings.INVENTORY_STALE_DAYS)
