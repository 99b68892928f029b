"""Thin Celery tasks: fetch by id, call the service, retry transient errors.

Their names are kept from the time they lived in ``findings``: queued messages,
``CELERY_TASK_ROUTES`` and the time limits of ``CELERY_TASK_ANNOTATIONS`` carry them."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from findings.models import Delivery
from remediator.core.errors import ProviderError
from remediator.core.time_limits import task_soft_limit

from .queue import DELIVERY_PROCESS, delivery_in_progress, delivery_sweep
from .receive import delivery_process
from .spool import DATABASE_DOWN
from .spool_replay import spool_replay
from .store import DeliveryRejected, delivery_reject

logger = logging.getLogger(__name__)
TRANSIENT = (ProviderError, *DATABASE_DOWN)


def _backoff(retries: int) -> float:
    return min(settings.DELIVERY_RETRY_BACKOFF * 2**retries, settings.DELIVERY_RETRY_BACKOFF_MAX)


def _outage_backoff(waits: int) -> float:
    """1, 2, 4, 8... seconds, then every DELIVERY_DATABASE_RETRY_MAX: soon after recovery."""
    return min(2.0**waits, settings.DELIVERY_DATABASE_RETRY_MAX)


@shared_task(bind=True, name=DELIVERY_PROCESS, max_retries=None)
def delivery_process_task(self, delivery_id: int, outage_waits: int = 0) -> str:
    """Process one delivery. When the database is down, even for writing down the retry,
    the task retries through the broker alone (a new message with a countdown, before any
    write), so it is processed by its own retry soon after the database is back rather
    than acknowledged, dropped and found by the sweep much later. ``outage_waits`` counts
    those retries, which do not use up DELIVERY_MAX_RETRIES."""
    try:
        return _delivery_process(self, delivery_id, outage_waits)
    except DATABASE_DOWN as exc:
        countdown = _outage_backoff(outage_waits)
        logger.warning(
            "delivery %s: the database is unavailable, retrying in %.0f s: %s",
            delivery_id,
            countdown,
            exc,
        )
        raise self.retry(
            exc=exc,
            countdown=countdown,
            args=[delivery_id],
            kwargs={"outage_waits": outage_waits + 1},
        ) from exc


def _delivery_process(task, delivery_id: int, outage_waits: int) -> str:
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return "missing"
    if delivery.status != Delivery.Status.QUEUED:
        return delivery.status  # done already (a duplicate task from the sweep)
    if delivery_in_progress(delivery_id=delivery_id):
        return "busy"  # another worker is ingesting it; if that one dies, the sweep re-enqueues
    try:
        delivery_process(delivery=delivery)
    except DeliveryRejected:
        return "rejected"
    except SoftTimeLimitExceeded as exc:
        # The ingest transaction rolled back: nothing of the report is stored. A slow
        # outside call or a busy database may pass; a report that is always too slow
        # gives up after DELIVERY_MAX_RETRIES like any transient failure.
        limit = task_soft_limit(task)
        problem = f"processing stopped at its time limit ({limit:g} s, DELIVERY_TIME_LIMIT)"
        return _retry_later(task, delivery, problem, exc, outage_waits)
    except TRANSIENT as exc:
        if isinstance(exc, ProviderError) and exc.permanent:
            raise
        return _retry_later(task, delivery, str(exc), exc, outage_waits)
    except Exception as exc:  # a bug must not leave the delivery queued for ever
        logger.exception("delivery %s: processing failed", delivery_id)
        reason = f"internal error: {type(exc).__name__}: {exc}"[:2000]
        delivery_reject(delivery=delivery, reason=f"{reason} (reprocess it after a fix)")
        return "rejected"
    return Delivery.objects.get(pk=delivery_id).status


def _retry_later(task, delivery: Delivery, problem: str, exc: Exception, outage_waits: int) -> str:
    """Mark the delivery for a retry after the backoff (or reject it when retries are
    spent), then raise Celery's Retry."""
    retries = task.request.retries - outage_waits
    countdown = _backoff(retries)
    # enqueued_at = when the retry is due, so the sweep (DELIVERY_REQUEUE_AFTER) counts
    # from then and does not cut the backoff short with a second copy of the task.
    # With the database down this write fails too: delivery_process_task retries.
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.QUEUED).update(
        attempts=F("attempts") + 1,
        error=f"retrying: {problem}"[:2000],
        enqueued_at=timezone.now() + timedelta(seconds=countdown),
    )
    if retries >= settings.DELIVERY_MAX_RETRIES:
        reason = f"gave up after {retries + 1} attempts: {problem}"
        delivery_reject(delivery=delivery, reason=reason)
        return "rejected"
    logger.warning("delivery %s: transient failure, retrying: %s", delivery.pk, problem)
    raise task.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="findings.delivery_sweep")
def delivery_sweep_task() -> list[int]:
    return delivery_sweep(
        older_than=settings.DELIVERY_SWEEP_AFTER, requeue_after=settings.DELIVERY_REQUEUE_AFTER
    )


@shared_task(name="findings.spool_replay")
def spool_replay_task() -> dict:
    """Beat, every WEBHOOK_SPOOL_REPLAY_INTERVAL: store spooled webhook bodies (spool.py)."""
    return spool_replay(limit=settings.WEBHOOK_SPOOL_REPLAY_BATCH).as_dict()
