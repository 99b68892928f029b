"""Ingestion through a real Celery worker on the configured broker."""

from __future__ import annotations

import pytest

from findings.models import Delivery, Finding
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task

from ..conftest import FIXTURES
from ..waiting import wait_for


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_worker_ingests_a_queued_delivery(celery_live_worker):
    body = (FIXTURES / "trivy" / "trivy_docs_reporting_alpine_latest.json").read_bytes()
    delivery, _ = delivery_store(source="trivy", body=body)

    delivery_process_task.delay(delivery.pk)

    assert wait_for(lambda: Delivery.objects.get(pk=delivery.pk).status != "queued")
    assert Delivery.objects.get(pk=delivery.pk).status == "processed"
    assert Finding.objects.filter(tag__repository__name="library/alpine").count() == 2
