"""Approval gates: permission, four eyes (service and database), one dispatch per approval."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from remediator.engine.models import ActionState, Approval, AuditEvent, Policy, RemediationAction
from remediator.engine.services import (
    ActionNotAllowed,
    action_approve,
    action_cancel,
    action_reject,
    action_request_rebuild,
    action_transition,
    scan_evaluate,
)

from .conftest import pipeline
from .factories import ingest, tag_of, vuln

S = ActionState
pytestmark = pytest.mark.django_db
TRIGGER = "/api/v4/projects/42/trigger/pipeline"


@pytest.fixture
def action(people) -> RemediationAction:
    """Awaiting approval, requested by the default policy on behalf of its owner alice."""
    Policy.objects.update(owner=people["alice"])
    [created] = scan_evaluate(scan_id=ingest(vuln()).pk)
    assert created.requested_by == people["alice"]
    return created


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def triggers(httpserver) -> list:
    return [r for r, _ in httpserver.log if r.path == TRIGGER]


def test_requester_cannot_approve_their_own_action(action, people):
    with pytest.raises(ActionNotAllowed, match="four eyes: you requested this action") as exc:
        action_approve(action_id=action.pk, user=people["alice"])
    assert exc.value.code == "four_eyes"
    assert RemediationAction.objects.get(pk=action.pk).state == S.AWAITING_APPROVAL
    assert not Approval.objects.exists()


def test_database_refuses_an_approval_by_the_requester(action, people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(
            action=action,
            user=people["alice"],
            requested_by=people["alice"],
            decision=Approval.Decision.APPROVE,
        )


def test_database_refuses_a_rejection_without_reason(action, people):
    with pytest.raises(IntegrityError), transaction.atomic():
        Approval.objects.create(action=action, user=people["bob"], decision="reject", reason="")


def test_viewer_cannot_approve_through_the_api(action, people):
    response = api(people["vera"]).post(f"/api/v1/actions/{action.pk}/approve/", {}, format="json")

    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert "remediator.approve_action" in response.json()["detail"]
    assert RemediationAction.objects.get(pk=action.pk).state == S.AWAITING_APPROVAL


def test_four_eyes_through_the_api_is_403_with_a_reason(action, people):
    response = api(people["alice"]).post(f"/api/v1/actions/{action.pk}/approve/")
    assert response.status_code == 403
    assert response.json() == {
        "error": "four_eyes",
        "detail": "four eyes: you requested this action, someone else must decide it",
    }


def test_second_approval_is_refused_and_the_build_is_triggered_once(
    action, people, gitlab, httpserver, eager, django_capture_on_commit_callbacks
):
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    with django_capture_on_commit_callbacks(execute=True):
        approved = action_approve(action_id=action.pk, user=people["bob"], reason="go")
    assert approved.state == S.APPROVED

    with django_capture_on_commit_callbacks(execute=True):
        response = api(people["bob"]).post(f"/api/v1/actions/{action.pk}/approve/")
        with pytest.raises(ActionNotAllowed, match="only awaiting_approval can be approved"):
            action_approve(action_id=action.pk, user=people["bob"])

    assert response.status_code == 409
    assert response.json()["error"] == "wrong_state"
    assert (
        "action is dispatched; only awaiting_approval can be approved" in response.json()["detail"]
    )
    assert len(triggers(httpserver)) == 1
    assert Approval.objects.filter(action=action).count() == 1
    done = RemediationAction.objects.get(pk=action.pk)
    assert (done.state, done.external_id, done.build_target) == (S.DISPATCHED, "1001", gitlab)


def test_approval_is_recorded_with_who_and_why(action, people, gitlab):
    action_approve(action_id=action.pk, user=people["bob"], reason="looks right")

    approval = Approval.objects.get()
    assert (approval.user, approval.requested_by, approval.decision, approval.reason) == (
        people["bob"],
        people["alice"],
        "approve",
        "looks right",
    )
    event = AuditEvent.objects.filter(action=action, kind="transition").latest("id")
    assert (event.actor, event.from_state, event.to_state) == (
        people["bob"],
        "awaiting_approval",
        "approved",
    )


def test_policy_without_owner_can_be_approved_by_any_approver(people, gitlab):
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    assert action.requested_by is None
    assert action_approve(action_id=action.pk, user=people["alice"]).state == S.APPROVED


def test_reject_needs_a_reason(action, people):
    response = api(people["bob"]).post(f"/api/v1/actions/{action.pk}/reject/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and "reason" in response.json()["detail"]
    with pytest.raises(ActionNotAllowed, match="a reason is required"):
        action_reject(action_id=action.pk, user=people["bob"], reason="  ")


def test_reject_by_another_approver_records_the_reason(action, people):
    response = api(people["bob"]).post(
        f"/api/v1/actions/{action.pk}/reject/", {"reason": "release freeze"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "rejected"
    assert Approval.objects.get().reason == "release freeze"
    assert list(action.findings.values_list("status", flat=True)) == ["open"]


def test_requester_cannot_reject_but_may_cancel(action, people):
    with pytest.raises(ActionNotAllowed, match="to withdraw your request, cancel it"):
        action_reject(action_id=action.pk, user=people["alice"], reason="changed my mind")
    cancelled = action_cancel(action_id=action.pk, user=people["alice"], reason="changed my mind")
    assert cancelled.state == S.CANCELLED


def test_someone_without_rights_cannot_cancel_others_actions(action, people):
    response = api(people["nora"]).post(f"/api/v1/actions/{action.pk}/cancel/")
    assert response.status_code == 403
    assert RemediationAction.objects.get(pk=action.pk).state == S.AWAITING_APPROVAL


def test_retry_puts_a_failed_action_back_to_approved_and_dispatches(
    action, people, gitlab, httpserver, eager, django_capture_on_commit_callbacks
):
    action_approve(action_id=action.pk, user=people["bob"])
    action_transition(action_id=action.pk, to=S.FAILED, reason="runner died")
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1002, "running", httpserver), status=201
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = api(people["bob"]).post(f"/api/v1/actions/{action.pk}/retry/")

    assert response.status_code == 200
    assert RemediationAction.objects.get(pk=action.pk).state == S.RUNNING
    assert len(triggers(httpserver)) == 1


def test_retry_of_an_action_that_did_not_fail_is_409(action, people):
    response = api(people["bob"]).post(f"/api/v1/actions/{action.pk}/retry/")
    assert response.status_code == 409
    assert "only failed or verification_failed can be retried" in response.json()["detail"]


def test_manual_rebuild_by_api_awaits_someone_elses_approval(people, gitlab):
    older = ingest(vuln("CVE-1"), tag="1.3")
    newest = ingest(vuln("CVE-2"), tag="1.4")
    repository_id = newest.tag.repository_id

    response = api(people["alice"]).post(
        f"/api/v1/images/{repository_id}/rebuild/", {"reason": "base image update"}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["state"], body["tag"], body["requested_by"]) == (
        "awaiting_approval",
        "1.4",
        "alice",
    )
    assert [f["vulnerability_id"] for f in body["findings"]] == ["CVE-2"]
    with pytest.raises(ActionNotAllowed, match="four eyes"):
        action_approve(action_id=body["id"], user=people["alice"])
    assert action_approve(action_id=body["id"], user=people["bob"]).state == S.APPROVED
    assert older.tag.actions.count() == 0


def test_manual_rebuild_joins_the_open_rebuild(action, people):
    ingest(vuln(), vuln("CVE-2024-9143", "zlib", severity="high"))  # a new fixable finding
    joined = action_request_rebuild(
        tag=tag_of(ingest(vuln(), vuln("CVE-2024-9143", "zlib"))), user=people["bob"]
    )
    assert joined.pk == action.pk
    assert sorted(joined.findings.values_list("vulnerability_id", flat=True)) == [
        "CVE-2024-6119",
        "CVE-2024-9143",
    ]
    assert RemediationAction.objects.count() == 1


def test_manual_rebuild_without_approval_when_configured(
    people, settings, eager, django_capture_on_commit_callbacks
):
    settings.MANUAL_REBUILD_REQUIRES_APPROVAL = False
    tag = tag_of(ingest(vuln(severity="low")))
    with django_capture_on_commit_callbacks(execute=True):
        action = action_request_rebuild(tag=tag, user=people["alice"], reason="routine")
    # no build target matches: dispatch fails permanently, and says why
    action.refresh_from_db()
    assert action.state == S.FAILED
    assert "no enabled build target matches registry.example.com/acme/api" in action.error


def test_viewer_cannot_request_a_rebuild(people):
    scan = ingest(vuln())
    response = api(people["vera"]).post(f"/api/v1/images/{scan.tag.repository_id}/rebuild/")
    assert response.status_code == 403
    assert not RemediationAction.objects.filter(requested_by=people["vera"]).exists()


def test_rebuild_of_an_unknown_tag_is_404(people):
    scan = ingest(vuln())
    response = api(people["alice"]).post(
        f"/api/v1/images/{scan.tag.repository_id}/rebuild/", {"tag": "nope"}, format="json"
    )
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_person_whose_rebuild_request_joined_an_action_cannot_approve_it(people, gitlab):
    [policy_action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    assert policy_action.requested_by is None  # the default policy has no owner
    tag = tag_of(ingest(vuln(), vuln("CVE-2024-9143", "zlib")))

    joined = action_request_rebuild(tag=tag, user=people["alice"], reason="zlib too")

    assert joined.pk == policy_action.pk
    with pytest.raises(ActionNotAllowed, match="four eyes") as exc:
        action_approve(action_id=joined.pk, user=people["alice"])
    assert exc.value.code == "four_eyes"
    assert action_approve(action_id=joined.pk, user=people["bob"]).state == S.APPROVED
