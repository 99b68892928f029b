"""Handing stored deliveries to a worker: now, after the request's commit, again after a
parser fix, or by the sweep when the broker did not take them or a worker died.

The task is published by its name (``DELIVERY_PROCESS``), which is also what queued
messages and ``CELERY_TASK_ROUTES`` carry; ``tasks.py`` implements it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from findings.models import Delivery

from .publish import BrokerUnavailable, broker_publish

logger = logging.getLogger(__name__)

DELIVERY_PROCESS = "findings.delivery_process"
"""The name of the task that processes one delivery (``tasks.delivery_process_task``)."""


class DeliveryBusy(Exception):
    """The delivery is queued already; it cannot be reprocessed until it is done."""


def delivery_enqueue(*, delivery_id: int, backoff: bool = True) -> bool:
    """Hand a delivery to the broker now, within bounded time (``publish.py``). False
    (logged) when the broker did not take it: the delivery stays queued and the periodic
    sweep (which asks even within BROKER_BACKOFF: ``backoff=False``) hands it over later."""
    # Written before the publish: an UPDATE after it could hold the row's lock just when
    # the worker asks whether another worker is ingesting it (delivery_in_progress), and
    # the task would wrongly answer "busy" and leave the delivery to the sweep.
    queued = Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.QUEUED)
    queued.update(enqueued_at=timezone.now())
    task = current_app.tasks[DELIVERY_PROCESS]
    try:
        broker_publish(task, args=[delivery_id], backoff=backoff)
    except BrokerUnavailable as exc:
        queued.update(enqueued_at=None)  # never reached a worker: the next sweep takes it
        logger.warning("delivery %s not enqueued (left for the sweep): %s", delivery_id, exc)
        return False
    return True


def delivery_enqueue_on_commit(*, delivery_id: int) -> None:
    transaction.on_commit(lambda: delivery_enqueue(delivery_id=delivery_id))


def delivery_reprocess(*, delivery: Delivery) -> Delivery:
    """Queue a finished delivery again (e.g. after a parser fix); DeliveryBusy if queued."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status == Delivery.Status.QUEUED:
            raise DeliveryBusy(f"delivery {locked.pk} is already queued")
        locked.status = Delivery.Status.QUEUED
        locked.error = ""
        locked.processed_at = None
        locked.enqueued_at = None
        locked.save(update_fields=["status", "error", "processed_at", "enqueued_at"])
        delivery_enqueue_on_commit(delivery_id=locked.pk)
    return locked


def delivery_sweep(*, older_than: float, requeue_after: float, limit: int = 500) -> list[int]:
    """Enqueue queued deliveries nobody handed to a worker, or whose task got lost.

    Picks deliveries queued for more than ``older_than`` seconds that were never
    enqueued (broker down at the time) or were enqueued more than
    ``requeue_after`` seconds ago (worker killed). Returns the ids enqueued.
    """
    now = timezone.now()
    stale = (
        Delivery.objects.filter(
            status=Delivery.Status.QUEUED,
            received_at__lt=now - timedelta(seconds=older_than),
        )
        .filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - timedelta(seconds=requeue_after))
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    enqueued = []
    for delivery_id in list(stale):
        if not delivery_enqueue(delivery_id=delivery_id, backoff=False):
            break
        enqueued.append(delivery_id)
    return enqueued


def delivery_in_progress(*, delivery_id: int) -> bool:
    """True when another worker holds the delivery's row lock (it is ingesting it now).

    A second copy of the task (the sweep re-enqueues after DELIVERY_REQUEUE_AFTER)
    then returns at once instead of parsing the body and waiting for the lock. Only
    where the database can skip locked rows (PostgreSQL); SQLite serialises writers.
    """
    if not connection.features.has_select_for_update_skip_locked:
        return False
    with transaction.atomic():
        free = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id)
        return not free.exists()
