"""Thin Celery task of the store of scans and findings (beat's overview refresh)."""

from __future__ import annotations

from celery import shared_task

from .selectors.overview import overview_refresh


@shared_task(name="findings.overview_refresh")
def overview_refresh_task() -> None:
    """Beat, every DASHBOARD_OVERVIEW_REFRESH_SECONDS: the overview's figures for all processes."""
    overview_refresh()
