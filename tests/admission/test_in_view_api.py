"""The admission policies API: the list and what one would deny today."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from remediator.engine.models import AdmissionPolicy, BuildTarget
from tests.engine.factories import running_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(approver) -> APIClient:
    client = APIClient()
    client.force_login(approver)
    return client


def test_the_list_gives_each_policy_in_order_with_its_criteria_and_build_targets(api):
    second = AdmissionPolicy.objects.create(name="later", order=20, mode="warn", kev=True)
    first = AdmissionPolicy.objects.create(name="sooner", order=10, image_glob="docker.io/acme/*")
    BuildTarget.objects.create(
        name="acme", provider="gitlab", project="7", image_patterns=["docker.io/acme/*"]
    )
    BuildTarget.objects.create(
        name="other", provider="gitlab", project="8", image_patterns=["quay.io/x/*"]
    )
    body = api.get("/api/v1/admission-policies/").json()
    rows = body["results"]
    assert [r["id"] for r in rows] == [first.pk, second.pk]
    assert rows[0]["criteria"]["image"] == "docker.io/acme/*"
    assert rows[0]["criteria"]["min_severity"] == "critical"
    assert rows[1]["criteria"]["kev"] is True and rows[1]["mode"] == "warn"
    assert rows[0]["build_targets"] == ["acme"]
    assert rows[1]["build_targets"] == ["acme", "other"]  # every image
    assert rows[0]["would_deny"] == f"/api/v1/admission-policies/{first.pk}/would-deny/"


def test_would_deny_counts_the_running_containers_and_lists_the_first(api, vulnerable):
    policy = AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")
    running_row("shop", "cart", "alpine:3.10")
    running_row("shop", "web", "nginx")
    running_row("edge", "new", "example.com/never:1")
    body = api.get(f"/api/v1/admission-policies/{policy.pk}/would-deny/?days=3").json()
    assert body["days"] == 3 and body["mode"] == "enforce"
    running = body["running"]
    assert (running["judged"], running["matched"], running["unknown"]) == (3, 2, 1)
    assert running["namespaces"] == [{"namespace": "shop", "count": 2}]
    assert running["workloads"] == 2 and running["images"] == 2
    cart = running["first"][0]
    assert (cart["namespace"], cart["name"], cart["image"]) == ("shop", "cart", "alpine:3.10")
    assert cart["vulnerabilities"] == ["CVE-2024-6119"] and cart["digest"].startswith("sha256:")
    assert body["reviews"]["judged"] == 0 and body["reviews_capped"] is False


@pytest.mark.parametrize("days", ["0", "91", "abc", "1.5", "9" * 40])
def test_a_window_that_is_not_1_to_90_days_is_a_400_naming_it(api, days):
    policy = AdmissionPolicy.objects.create(name="p")
    response = api.get(f"/api/v1/admission-policies/{policy.pk}/would-deny/", {"days": days})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "days" in response.json()["detail"]


@pytest.mark.parametrize("pk", ["999", str(2**63)])
def test_an_unknown_policy_is_a_404(api, pk):
    response = api.get(f"/api/v1/admission-policies/{pk}/would-deny/")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
