"""Enqueue the engine's Celery tasks once the current transaction commits."""

from __future__ import annotations

from django.db import transaction


def enqueue_dispatch(action_id: int) -> None:
    from remediator.tasks import action_dispatch_task

    transaction.on_commit(lambda: action_dispatch_task.delay(action_id), robust=True)


def enqueue_notify(action_id: int, event: str) -> None:
    from remediator.tasks import action_notify_task

    transaction.on_commit(lambda: action_notify_task.delay(action_id, event), robust=True)


def enqueue_evaluate(scan_id: int) -> None:
    from remediator.tasks import scan_evaluate_task

    transaction.on_commit(lambda: scan_evaluate_task.delay(scan_id), robust=True)
