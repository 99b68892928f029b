"""A killed worker's delivery comes back within a minute, and only when it is lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from werkzeug import Response

from findings.models import Delivery
from remediator.intake.queue import delivery_in_progress, delivery_sweep
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task

from .test_harbor import ZULIP_REPORT_PATH, harbor, harbor_fixture, serve_report  # noqa: F401

URL = "/api/v1/webhooks/harbor/"


def sweep_now() -> list[int]:
    return delivery_sweep(
        older_than=django_settings.DELIVERY_SWEEP_AFTER,
        requeue_after=django_settings.DELIVERY_REQUEUE_AFTER,
    )


def test_defaults_bring_a_lost_task_back_within_60_seconds():
    sweep = django_settings.CELERY_BEAT_SCHEDULE["findings-delivery-sweep"]["schedule"]
    # A delivery is swept once received DELIVERY_SWEEP_AFTER ago and handed over
    # DELIVERY_REQUEUE_AFTER ago; the sweep runs every `sweep` seconds.
    waits = max(django_settings.DELIVERY_SWEEP_AFTER, django_settings.DELIVERY_REQUEUE_AFTER)
    assert waits + sweep <= 60
    assert django_settings.CELERY_TASK_ACKS_LATE
    assert django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST


@pytest.mark.django_db
def test_the_sweep_re_enqueues_a_delivery_whose_worker_died():
    now = timezone.now()
    lost, _ = delivery_store(source="trivy", body=b"lost")
    running, _ = delivery_store(source="trivy", body=b"running")
    Delivery.objects.update(received_at=now - timedelta(minutes=5))
    Delivery.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(seconds=50))
    Delivery.objects.filter(pk=running.pk).update(enqueued_at=now - timedelta(seconds=10))

    assert sweep_now() == [lost.pk]


@pytest.mark.django_db
def test_a_retry_waiting_for_its_backoff_is_not_swept_early(post, harbor, settings):  # noqa: F811
    settings.DELIVERY_RETRY_BACKOFF = 300
    harbor.expect_oneshot_request(ZULIP_REPORT_PATH).respond_with_response(
        Response("busy", status=503)
    )
    serve_report(harbor)
    response = post(URL, harbor_fixture("zulip_scanning_completed.json"))
    before = timezone.now()

    delivery_process_task.apply(args=[response.json()["delivery"]])  # eager: retried at once

    event = Delivery.objects.get(pk=response.json()["delivery"])
    assert event.enqueued_at >= before + timedelta(seconds=299)


@pytest.mark.django_db(transaction=True)
def test_a_second_copy_of_a_task_leaves_a_delivery_another_worker_is_ingesting():
    """Where the database skips locked rows (PostgreSQL) the second copy answers "busy";
    SQLite cannot tell (its writers are serialised instead): the copy waits for the
    writer, then processes the delivery, and a third copy finds it done."""
    skips_locked = connection.features.has_select_for_update_skip_locked
    delivery, _ = delivery_store(source="trivy", body=b"{}")
    locked, release = threading.Event(), threading.Event()

    def ingesting() -> None:
        with transaction.atomic():
            Delivery.objects.select_for_update().get(pk=delivery.pk)
            locked.set()
            release.wait(10)
        connection.close()

    worker = threading.Thread(target=ingesting)
    worker.start()
    try:
        assert locked.wait(10)
        assert delivery_in_progress(delivery_id=delivery.pk) is skips_locked
        if not skips_locked:
            threading.Timer(0.5, release.set).start()  # the writer ends while the copy waits
        second = delivery_process_task.apply(args=[delivery.pk]).get()
        assert second == ("busy" if skips_locked else "rejected")  # "{}" is no report
    finally:
        release.set()
        worker.join()
    assert not delivery_in_progress(delivery_id=delivery.pk)
    if not skips_locked:
        assert delivery_process_task.apply(args=[delivery.pk]).get() == "rejected"
