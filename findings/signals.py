"""The seam between detection and action: sent after a scan is committed.

Receivers must be quick (enqueue a task); the action engine listens here so
that the findings app never imports it.
"""

from django.dispatch import Signal

scan_ingested = Signal()
"""Sent with ``scan_id`` (int) after the transaction that stored a new scan commits."""
