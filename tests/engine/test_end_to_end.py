"""Webhook in, approval by a second person, GitLab pipeline, verification scan: all through
a real Celery worker, the real API and local fakes of GitLab and Aqua."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.engine.models import ActionState, Policy, RemediationAction
from remediator.engine.tasks import actions_poll_task

from ..waiting import wait_for
from .conftest import aqua_calls, pipeline
from .factories import payload, vuln

S = ActionState
HOOK_SECRET = "generic-hook-secret"
TRIGGER = "/api/v4/projects/42/trigger/pipeline"
PIPELINE = "/api/v4/projects/42/pipelines/1001"


def post_scan(body: dict) -> None:
    response = APIClient().post(
        "/api/v1/webhooks/generic/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {HOOK_SECRET}",
    )
    assert response.status_code == 202, response.content


def state_of(action_id: int) -> str:
    return RemediationAction.objects.get(pk=action_id).state


def rebuild_until_succeeded(people, httpserver) -> RemediationAction:
    Policy.objects.update(owner=people["alice"])
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    httpserver.expect_oneshot_request(PIPELINE).respond_with_json(
        pipeline(1001, "running", httpserver)
    )
    httpserver.expect_oneshot_request(PIPELINE).respond_with_json(
        pipeline(1001, "success", httpserver)
    )

    post_scan(payload(vuln(), digest_no=1))
    assert wait_for(lambda: RemediationAction.objects.filter(state=S.AWAITING_APPROVAL).exists())
    action = RemediationAction.objects.get()
    assert action.requested_by == people["alice"]

    approver = APIClient()
    approver.force_authenticate(people["bob"])
    response = approver.post(f"/api/v1/actions/{action.pk}/approve/", {"reason": "ship it"})
    assert response.status_code == 200, response.json()

    assert wait_for(lambda: RemediationAction.objects.get(pk=action.pk).external_id == "1001")
    [(trigger, _)] = [(r, x) for r, x in httpserver.log if r.path == TRIGGER]
    assert trigger.form["token"] == "glptt-TRIGGER-secret"
    assert trigger.form["variables[REMEDIATOR_CVES]"] == "CVE-2024-6119"
    assert trigger.form["variables[REMEDIATOR_PACKAGES]"] == "openssl=3.3.2-r0"
    assert trigger.form["variables[REMEDIATOR_CORRELATION_ID]"] == str(action.correlation_id)
    assert trigger.form["variables[REMEDIATOR_IMAGE]"].startswith(
        "registry.example.com/acme/api:1.4@sha256:"
    )

    actions_poll_task.delay()
    assert wait_for(lambda: state_of(action.pk) == S.RUNNING)
    actions_poll_task.delay()
    assert wait_for(lambda: state_of(action.pk) == S.SUCCEEDED)
    return action


@pytest.fixture
def hook(monkeypatch, settings):
    monkeypatch.setenv("WEBHOOK_SECRET_GENERIC", HOOK_SECRET)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_fixable_critical_is_rebuilt_after_approval_and_verified_fixed(
    celery_live_worker, hook, people, gitlab, httpserver
):
    action = rebuild_until_succeeded(people, httpserver)

    post_scan(payload(vuln("CVE-2025-0100", "busybox", severity="low"), digest_no=2))

    assert wait_for(lambda: state_of(action.pk) == S.VERIFIED)
    finding = Finding.objects.get(vulnerability_id="CVE-2024-6119")
    assert finding.status == "fixed"
    assert RemediationAction.objects.get(pk=action.pk).verified_by_scan == finding.fixed_by_scan


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_cve_surviving_the_rebuild_marks_the_image_risky_in_aqua(
    celery_live_worker, hook, people, gitlab, aqua
):
    action = rebuild_until_succeeded(people, aqua)

    post_scan(payload(vuln(), digest_no=2))

    assert wait_for(lambda: state_of(action.pk) == S.VERIFICATION_FAILED)
    assert wait_for(lambda: RemediationAction.objects.get(pk=action.pk).risky_marked)
    [disallow] = aqua_calls(aqua, "disallow")
    assert disallow["images"] == [
        {"registry": "registry.example.com", "repository": "acme/api", "tag": "1.4"}
    ]
    assert Finding.objects.get(vulnerability_id="CVE-2024-6119").status == "open"
