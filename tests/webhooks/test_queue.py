"""Nothing lost: the sweep, reprocessing, a real worker, and a broker that is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from findings import parsers
from findings.models import Delivery, Finding, Scan
from remediator.celery import app
from remediator.intake.queue import delivery_reprocess, delivery_sweep
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task

from ..waiting import wait_for

TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"


def status_of(delivery_id: int) -> str:
    return Delivery.objects.get(pk=delivery_id).status


def backdate(delivery_id: int, seconds: int = 600) -> None:
    Delivery.objects.filter(pk=delivery_id).update(
        received_at=timezone.now() - timedelta(seconds=seconds)
    )


@pytest.mark.django_db
def test_sweep_picks_only_stale_deliveries_never_or_long_ago_enqueued(fixture_bytes):
    now = timezone.now()
    never, _ = delivery_store(source="trivy", body=b"1")
    lost, _ = delivery_store(source="trivy", body=b"2")
    recent, _ = delivery_store(source="trivy", body=b"3")
    delivery_store(source="trivy", body=b"4")  # fresh: not stale yet
    done, _ = delivery_store(source="trivy", body=b"5")
    for delivery in (never, lost, recent, done):
        backdate(delivery.pk)
    Delivery.objects.filter(pk=lost.pk).update(enqueued_at=now - timedelta(hours=1))
    Delivery.objects.filter(pk=recent.pk).update(enqueued_at=now)
    Delivery.objects.filter(pk=done.pk).update(status="processed")

    assert delivery_sweep(older_than=60, requeue_after=900) == [never.pk, lost.pk]
    assert Delivery.objects.get(pk=never.pk).enqueued_at is not None


@pytest.mark.django_db
def test_reprocess_of_a_processed_delivery_changes_no_finding(fixture_bytes):
    delivery, _ = delivery_store(source="trivy", body=fixture_bytes(TRIVY))
    delivery_process_task.apply(args=[delivery.pk])
    first = list(Finding.objects.values_list("id", "last_seen"))

    delivery_reprocess(delivery=delivery)
    assert status_of(delivery.pk) == "queued"
    delivery_process_task.apply(args=[delivery.pk])

    assert status_of(delivery.pk) == "processed"
    assert (
        Scan.objects.count() == 1 and list(Finding.objects.values_list("id", "last_seen")) == first
    )


@pytest.mark.django_db
def test_task_for_a_finished_delivery_does_nothing(fixture_bytes):
    delivery, _ = delivery_store(source="trivy", body=b"nonsense")
    assert delivery_process_task.apply(args=[delivery.pk]).get() == "rejected"
    Delivery.objects.filter(pk=delivery.pk).update(error="kept")

    assert delivery_process_task.apply(args=[delivery.pk]).get() == "rejected"
    assert Delivery.objects.get(pk=delivery.pk).error == "kept"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_ingests_a_posted_trivy_report(celery_live_worker, secret, fixture_bytes):
    client = Client()
    response = client.post(
        "/api/v1/webhooks/trivy/",
        fixture_bytes("trivy/trivy_alpine-39.json"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 202
    delivery_id = response.json()["delivery"]

    assert wait_for(lambda: status_of(delivery_id) != "queued")
    assert status_of(delivery_id) == "processed"
    scan = Scan.objects.get(delivery_id=delivery_id)
    client.force_login(_user())
    listed = client.get(f"/api/v1/findings/?scan={scan.pk}&page_size=100").json()
    assert len(listed["results"]) == 6 and scan.findings_count == 6


def _user():
    """A Viewer: reading findings through the API needs the role."""
    from django.contrib.auth import get_user_model

    from remediator.engine.management.commands.demo import ensure_groups

    user = get_user_model().objects.create_user("reader", password="x")
    user.groups.add(ensure_groups()["Viewer"])
    return user


@pytest.fixture
def dead_broker(monkeypatch):
    """Point the app's producer at a broker nobody listens on; restore afterwards."""
    saved = app.conf.broker_url

    def switch(url: str) -> None:
        # Celery lets the CELERY_BROKER_URL environment variable win over its config.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        app.conf.broker_url = url
        app._pool = None
        app.amqp._producer_pool = None

    switch("redis://127.0.0.1:1/0")
    yield lambda: switch(saved)
    switch(saved)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_post_while_the_broker_is_down_is_accepted_and_swept_later(
    request, dead_broker, secret, fixture_bytes
):
    response = Client().post(
        "/api/v1/webhooks/trivy/",
        fixture_bytes(TRIVY),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 202
    delivery_id = response.json()["delivery"]
    assert Delivery.objects.get(pk=delivery_id).enqueued_at is None

    dead_broker()  # the broker is back
    request.getfixturevalue("celery_live_worker")
    backdate(delivery_id)
    assert delivery_sweep(older_than=60, requeue_after=900) == [delivery_id]

    assert wait_for(lambda: status_of(delivery_id) != "queued")
    assert status_of(delivery_id) == "processed"
    assert Finding.objects.filter(repository__name="library/alpine").count() == 2


@pytest.mark.django_db
def test_a_bug_while_processing_rejects_the_delivery_instead_of_leaving_it_queued(
    fixture_bytes, monkeypatch
):
    def broken_parser(document):
        raise RuntimeError("parser bug")

    monkeypatch.setitem(parsers.PARSERS, "trivy", broken_parser)
    delivery, _ = delivery_store(source="trivy", body=fixture_bytes(TRIVY))

    outcome = delivery_process_task.apply(args=[delivery.pk]).get()

    delivery.refresh_from_db()
    assert outcome == "rejected" and delivery.status == "rejected"
    assert delivery.error.startswith("internal error: RuntimeError: parser bug")
    assert Scan.objects.count() == 0
