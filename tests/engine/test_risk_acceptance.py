"""Accepting a finding's risk, false positives, reopening, expiry, and Aqua's acknowledgement."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.engine.models import AuditEvent
from remediator.engine.services import scan_evaluate
from remediator.engine.services.risk import accepted_risks_expire

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def finding(people) -> Finding:
    ingest(vuln(), tag="1.4")
    return Finding.objects.get()


def test_approver_accepts_a_risk_until_a_date_with_a_reason(finding, people):
    until = timezone.now() + timedelta(days=30)
    answer = client_for(people["alice"]).post(
        f"/api/v1/findings/{finding.pk}/accept/",
        {"reason": "not reachable: no TLS in this image", "until": until.isoformat()},
        format="json",
    )

    assert answer.status_code == 200, answer.content
    finding.refresh_from_db()
    assert finding.status == "accepted" and finding.accepted_until == until
    assert finding.status_reason == "not reachable: no TLS in this image"
    event = AuditEvent.objects.get(kind="finding")
    assert (event.from_state, event.to_state, event.actor) == ("open", "accepted", people["alice"])


def test_accepted_findings_get_no_action(finding, people):
    client_for(people["alice"]).post(
        f"/api/v1/findings/{finding.pk}/accept/", {"reason": "vendor says harmless"}, format="json"
    )

    assert scan_evaluate(scan_id=finding.last_scan_id) == []


def test_a_viewer_cannot_decide_and_a_reason_is_required(finding, people):
    url = f"/api/v1/findings/{finding.pk}/accept/"
    assert client_for(people["vera"]).post(url, {"reason": "x"}, format="json").status_code == 403
    assert client_for(people["alice"]).post(url, {"reason": ""}, format="json").status_code == 400
    finding.refresh_from_db()
    assert finding.status == "open"


def test_false_positive_then_reopen(finding, people):
    client = client_for(people["bob"])
    fp = client.post(
        f"/api/v1/findings/{finding.pk}/false-positive/", {"reason": "wrong CPE"}, format="json"
    )
    again = client.post(
        f"/api/v1/findings/{finding.pk}/false-positive/", {"reason": "again"}, format="json"
    )
    reopened = client.post(f"/api/v1/findings/{finding.pk}/reopen/", {}, format="json")

    assert fp.json()["status"] == "false_positive"
    assert again.status_code == 409 and again.json()["error"] == "wrong_state"
    assert reopened.json()["status"] == "open"


def test_expired_acceptances_reopen(finding, people):
    client_for(people["alice"]).post(
        f"/api/v1/findings/{finding.pk}/accept/",
        {
            "reason": "until the next release",
            "until": (timezone.now() + timedelta(days=1)).isoformat(),
        },
        format="json",
    )

    assert accepted_risks_expire(now=timezone.now()) == 0
    assert accepted_risks_expire(now=timezone.now() + timedelta(days=2)) == 1
    finding.refresh_from_db()
    assert finding.status == "open" and finding.accepted_until is None


def test_acceptance_is_acknowledged_in_aqua(finding, people, aqua, httpserver):
    httpserver.expect_request("/api/v2/risks/acknowledge", method="POST").respond_with_data(
        "", status=204
    )
    client_for(people["alice"]).post(
        f"/api/v1/findings/{finding.pk}/accept/",
        {
            "reason": "compensating control",
            "until": (timezone.now() + timedelta(days=10)).isoformat(),
        },
        format="json",
    )

    [call] = [
        json.loads(request.data)
        for request, _ in httpserver.log
        if request.path == "/api/v2/risks/acknowledge"
    ]
    assert call["comment"] == "compensating control"
    [issue] = call["issues"]
    assert issue["issue_name"] == "CVE-2024-6119" and issue["resource_name"] == "openssl"
    assert issue["image_name"] == "acme/api:1.4" and issue["expiration_days"] in (9, 10)


def test_unknown_finding_is_404(people):
    answer = client_for(people["alice"]).post("/api/v1/findings/999/accept/", {"reason": "x"})
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"
