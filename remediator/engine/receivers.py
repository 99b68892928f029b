"""Signal receivers: quick, they only enqueue."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from findings.signals import scan_ingested
from remediator.engine.tasks import scan_evaluate_task


@receiver(scan_ingested, dispatch_uid="remediator.scan_evaluate")
def scan_ingested_evaluate(sender: Any, scan_id: int, **kwargs: Any) -> None:
    """A scan was committed: verify earlier actions and run the policy, in a worker."""
    scan_evaluate_task.delay(scan_id)
