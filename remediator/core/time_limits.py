"""The soft time limit a running Celery task is under, for the message it records when
it hits it: the one given to this call (``apply_async(soft_time_limit=...)``), else the
task's own (settings: CELERY_TASK_ANNOTATIONS), else the app's default."""

from __future__ import annotations

from typing import Any


def task_soft_limit(task: Any) -> float:
    _hard, soft = getattr(task.request, "timelimit", None) or (None, None)
    return float(soft or task.soft_time_limit or task.app.conf.task_soft_time_limit or 0)
