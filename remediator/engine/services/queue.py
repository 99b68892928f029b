"""Enqueue the engine's Celery tasks: the one place services reach the tasks.

The tasks call the services, so the services import the tasks late, here and
nowhere else.
"""

from __future__ import annotations

from types import ModuleType

from django.db import transaction


def _tasks() -> ModuleType:
    from remediator.engine import tasks  # services <-> tasks: this side imports late

    return tasks


def enqueue_dispatch(action_id: int) -> None:
    """After commit: dispatch the action in a worker."""
    transaction.on_commit(lambda: _tasks().action_dispatch_task.delay(action_id), robust=True)


def enqueue_notify(action_id: int, event: str) -> None:
    """After commit: tell people about the action."""
    transaction.on_commit(lambda: _tasks().action_notify_task.delay(action_id, event), robust=True)


def enqueue_dry_run_refresh() -> None:
    """Now: store a fresh policy dry run in a worker."""
    _tasks().policy_dry_run_refresh_task.delay()


def enqueue_pull_request_update(action_id: int) -> None:
    """After commit: push the open fix pull request's findings to its branch."""
    transaction.on_commit(
        lambda: _tasks().action_pull_request_update_task.delay(action_id), robust=True
    )


def enqueue_break_glass_notify(notice: dict) -> None:
    """Now: tell the security team about a break-glass use, in a worker."""
    _tasks().admission_break_glass_notify_task.delay(notice)


def enqueue_setup_pings() -> None:
    """Now: ask the build targets' CI systems and Aqua whether they answer, in a worker."""
    _tasks().setup_pings_task.delay()
