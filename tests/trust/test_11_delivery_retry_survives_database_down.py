"""Class 11: a delivery task taken from the queue while the database is down is not
acknowledged and dropped: it retries through the broker alone (no write first) and is
processed by its own retry soon after the database is back, not by the sweep.

A real Celery worker (a thread of this process, on the configured broker); the database
is really unreachable for every thread (tests/outage.py). No beat runs here, so no sweep
can be what processes the delivery.
"""

from __future__ import annotations

import threading

import pytest
from celery.signals import task_retry

from findings.models import Delivery
from remediator.intake.store import delivery_store
from remediator.intake.tasks import _outage_backoff, delivery_process_task

from ..conftest import FIXTURES
from ..outage import database_down
from ..waiting import wait_for

BODY = (FIXTURES / "trivy/trivy_docs_reporting_alpine_latest.json").read_bytes()


@pytest.fixture
def retries():
    """The reasons of every retry the worker made, in order."""
    seen: list[str] = []
    event = threading.Event()

    def note(sender=None, reason=None, **kwargs) -> None:
        seen.append(repr(reason))
        event.set()

    task_retry.connect(note, weak=False)
    yield seen, event
    task_retry.disconnect(note)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_task_taken_while_the_database_is_down_is_processed_by_its_own_retry(
    celery_live_worker, settings, retries
):
    settings.DELIVERY_DATABASE_RETRY_MAX = 1.0
    seen, retried = retries
    delivery, _ = delivery_store(source="trivy", body=BODY)

    with database_down():
        delivery_process_task.delay(delivery.pk)
        assert retried.wait(60), "the worker never retried the task"
        assert wait_for(lambda: len(seen) >= 2, seconds=60)  # still retrying, not dropped

    assert wait_for(
        lambda: Delivery.objects.get(pk=delivery.pk).status != Delivery.Status.QUEUED, 60
    ), f"not processed after the database came back; retries: {seen}"
    stored = Delivery.objects.get(pk=delivery.pk)
    assert stored.status == Delivery.Status.PROCESSED
    assert all("OperationalError" in reason for reason in seen), seen
    # The outage retries wrote nothing (no attempt counted, no error left behind): the
    # one attempt is the ingest that succeeded.
    assert stored.attempts == 1 and stored.error == ""


def test_outage_retries_come_soon_and_stay_close_together(settings):
    settings.DELIVERY_DATABASE_RETRY_MAX = 10.0
    waits = [_outage_backoff(n) for n in range(8)]
    assert waits == [1, 2, 4, 8, 10, 10, 10, 10]
