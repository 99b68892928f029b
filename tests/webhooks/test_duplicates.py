from __future__ import annotations

import pytest

from findings.models import Delivery

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/trivy/"


def test_same_body_twice_answers_200_with_the_first_delivery(post, fixture_bytes):
    body = fixture_bytes("trivy/trivy_alpine-39.json")
    first = post(URL, body)
    again = post(URL, body)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["delivery"] == first.json()["delivery"]
    assert again.json()["duplicate"] is True and again.json()["status"] == "queued"
    assert Delivery.objects.count() == 1


def test_same_sender_delivery_id_with_another_body_is_a_duplicate(post, fixture_bytes):
    first = post(URL, fixture_bytes("trivy/trivy_alpine-39.json"), HTTP_WEBHOOK_ID="evt-1")
    again = post(URL, fixture_bytes("trivy/trivy_amazon-2.json"), HTTP_WEBHOOK_ID="evt-1")

    assert again.status_code == 200 and again.json()["delivery"] == first.json()["delivery"]
    assert Delivery.objects.count() == 1


def test_duplicate_of_a_rejected_delivery_reports_its_status(post):
    post(URL, b"nonsense")
    again = post(URL, b"nonsense")

    assert again.status_code == 200
    assert again.json()["status"] == "rejected" and "not JSON" in again.json()["detail"]


def test_same_body_to_another_source_is_the_same_report(post, fixture_bytes):
    body = fixture_bytes("trivy/trivy_alpine-39.json")
    first = post(URL, body).json()
    again = post("/api/v1/webhooks/auto/", body)

    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["delivery"] == first["delivery"]
    assert Delivery.objects.count() == 1
