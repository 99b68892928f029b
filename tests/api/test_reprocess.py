from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from findings.deliveries import delivery_store
from findings.models import Delivery, Scan
from findings.tasks import delivery_process_task

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


@pytest.mark.parametrize("who", ["staff_api", "delivery_editor_api"])
def test_staff_or_permission_holder_requeues_a_rejected_delivery(request, rejected, who):
    client = request.getfixturevalue(who)

    response = client.post(f"/api/v1/deliveries/{rejected.pk}/reprocess/")

    assert response.status_code == 202
    assert response.json() == {
        "delivery": rejected.pk,
        "status": "queued",
        "url": f"/api/v1/deliveries/{rejected.pk}/",
    }
    again = Delivery.objects.get()
    assert again.status == "queued" and again.error == ""


def test_reprocessing_a_queued_delivery_is_a_conflict(staff_api):
    delivery, _ = delivery_store(source="trivy", body=b"x")
    assert staff_api.post(f"/api/v1/deliveries/{delivery.pk}/reprocess/").status_code == 409


def test_reprocess_after_a_fix_ingests(staff_api, fixture_bytes):
    delivery, _ = delivery_store(source="trivy", body=fixture_bytes("trivy/trivy_npm_repo.json"))
    delivery_process_task.apply(args=[delivery.pk])
    assert Delivery.objects.get().status == "rejected"  # names no image
    Delivery.objects.filter(pk=delivery.pk).update(image_hint="ghcr.io/acme/app:1")

    staff_api.post(f"/api/v1/deliveries/{delivery.pk}/reprocess/")
    delivery_process_task.apply(args=[delivery.pk])

    assert Delivery.objects.get().status == "processed" and Scan.objects.count() == 1


def test_reprocess_of_unknown_delivery_is_404(staff_api):
    response = staff_api.post("/api/v1/deliveries/999/reprocess/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
