"""Hand a task to the broker from a request, a command or a sweep: bounded, never retried
here, and not tried at all for a while once it failed.

The transport's own timeouts (``BROKER_TIMEOUT``, see ``remediator/core/broker_timeouts.py``)
bound each attempt; one connection check and no publish retries keep it to one short
wait when the broker hangs. After a failure this process skips the broker for
``BROKER_BACKOFF`` seconds: a webhook's delivery is stored and queued, and the delivery
sweep hands it over later, so twenty posts against a hanging broker cost one wait per
process, not twenty, and the web threads stay free for ``/healthz`` and admission.
"""

from __future__ import annotations

import threading
import time

from celery import Task
from django.conf import settings


class BrokerUnavailable(Exception):
    """The broker did not take the task (or was skipped after a recent failure)."""


class _Backoff:
    """When this process may ask the broker again (monotonic time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0
        self._why = ""

    def skipping(self) -> str:
        """Why the broker is being skipped now, or '' when it may be asked."""
        with self._lock:
            return self._why if time.monotonic() < self._until else ""

    def failed(self, why: str) -> None:
        with self._lock:
            self._until = time.monotonic() + settings.BROKER_BACKOFF
            self._why = why

    def reset(self) -> None:
        with self._lock:
            self._until, self._why = 0.0, ""


BACKOFF = _Backoff()


def broker_publish(task: Task, *, args: list, backoff: bool = True) -> None:
    """Publish ``task(*args)`` once; BrokerUnavailable when the broker does not take it.

    ``backoff=False`` asks the broker even within BROKER_BACKOFF of a failure: the
    delivery sweep's way of finding out that it is back (one wait per sweep at most)."""
    if task.app.conf.task_always_eager:  # tests that run tasks in place: no broker involved
        task.apply_async(args=args)
        return
    skipped = BACKOFF.skipping() if backoff else ""
    if skipped:
        raise BrokerUnavailable(f"skipped (it failed less than BROKER_BACKOFF ago): {skipped}")
    try:
        with task.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=0)
            task.apply_async(args=args, producer=producer, retry=False)
    except Exception as exc:  # kombu/redis/amqp/sqlalchemy errors differ by transport
        why = f"{type(exc).__name__}: {exc}"[:300]
        BACKOFF.failed(why)
        raise BrokerUnavailable(why) from exc
    BACKOFF.reset()
