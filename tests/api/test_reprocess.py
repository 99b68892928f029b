from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from findings.models import Delivery, Scan
from remediator.engine.models import AuditEvent
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def rejected() -> Delivery:
    delivery, _ = delivery_store(source="trivy", body=b"nonsense")
    delivery_process_task.apply(args=[delivery.pk])
    return Delivery.objects.get(pk=delivery.pk)


def test_reader_may_not_reprocess(api, rejected):
    response = api.post(f"/api/v1/deliveries/{rejected.pk}/reprocess/")
    assert response.status_code == 403 and response.json()["error"] == "permission_denied"
    assert Delivery.objects.get().status == "rejected"


def test_anonymous_may_not_reprocess(rejected):
    assert APIClient().post(f"/api/v1/deliveries/{rejected.pk}/reprocess/").status_code == 401


def test_staff_without_the_permission_may_not_reprocess(staff_api, rejected):
    response = staff_api.post(f"/api/v1/deliveries/{rejected.pk}/reprocess/")
    assert response.status_code == 403 and "findings.change_delivery" in response.json()["detail"]
    assert Delivery.objects.get().status == "rejected"


def test_permission_holder_requeues_a_rejected_delivery(rejected, delivery_editor_api):
    client = delivery_editor_api

    response = client.post(f"/api/v1/deliveries/{rejected.pk}/reprocess/")

    assert response.status_code == 202
    assert response.json() == {
        "delivery": rejected.pk,
        "status": "queued",
        "url": f"/api/v1/deliveries/{rejected.pk}/",
    }
    again = Delivery.objects.get()
    assert again.status == "queued" and again.error == ""


def test_reprocessing_a_queued_delivery_is_a_conflict(delivery_editor_api):
    delivery, _ = delivery_store(source="trivy", body=b"x")
    response = delivery_editor_api.post(f"/api/v1/deliveries/{delivery.pk}/reprocess/")
    assert response.status_code == 409


def test_reprocess_after_a_fix_ingests(delivery_editor_api, fixture_bytes):
    delivery, _ = delivery_store(source="trivy", body=fixture_bytes("trivy/trivy_npm_repo.json"))
    delivery_process_task.apply(args=[delivery.pk])
    assert Delivery.objects.get().status == "rejected"  # names no image
    Delivery.objects.filter(pk=delivery.pk).update(image_hint="ghcr.io/acme/app:1")

    delivery_editor_api.post(f"/api/v1/deliveries/{delivery.pk}/reprocess/")
    delivery_process_task.apply(args=[delivery.pk])

    assert Delivery.objects.get().status == "processed" and Scan.objects.count() == 1


def test_reprocess_of_unknown_delivery_is_404(delivery_editor_api):
    response = delivery_editor_api.post("/api/v1/deliveries/999/reprocess/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_reprocess_through_the_api_is_audited(rejected, delivery_editor_api):
    delivery_editor_api.post(f"/api/v1/deliveries/{rejected.pk}/reprocess/")

    [event] = AuditEvent.objects.filter(object_type="delivery", object_id=str(rejected.pk))
    assert (event.actor_label, event.from_state, event.to_state) == ("editor", "rejected", "queued")


def test_a_refused_reprocess_writes_no_audit_event(api, rejected):
    api.post(f"/api/v1/deliveries/{rejected.pk}/reprocess/")
    assert not AuditEvent.objects.exists()
