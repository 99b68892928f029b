"""Approve, reject, cancel and request rebuilds through the dashboard's POST forms."""

from __future__ import annotations

import pytest

from remediator.engine.models import ActionState, Approval, RemediationAction

from .factories import make_action, make_findings, make_patchable_action, make_tag


def _messages(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


@pytest.mark.django_db
def test_approver_approves_an_action_from_the_queue(
    client_for, approver, second_approver, ready_target
):
    tag = make_tag()
    action = make_action(tag, requested_by=second_approver, findings=make_findings(tag, 3))
    response = client_for(approver).post(
        f"/actions/{action.pk}/approve/", {"next": "/approvals/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/approvals/"
    action.refresh_from_db()
    assert action.state == ActionState.APPROVED
    assert Approval.objects.get(action=action).user == approver
    assert "approved" in _messages(response)


@pytest.mark.django_db
def test_second_approve_shows_a_message_not_an_error(client_for, approver, ready_target):
    tag = make_tag()
    action = make_action(tag, findings=make_findings(tag, 1))
    client = client_for(approver)
    client.post(f"/actions/{action.pk}/approve/")
    response = client.post(f"/actions/{action.pk}/approve/", follow=True)
    assert response.status_code == 200
    assert "Not done" in _messages(response)
    assert Approval.objects.filter(action=action).count() == 1


@pytest.mark.django_db
def test_requester_cannot_approve_their_own_action(client_for, approver):
    tag = make_tag()
    action = make_action(tag, requested_by=approver, findings=make_findings(tag, 1))
    client = client_for(approver)
    page = client.get("/approvals/")
    assert "four eyes" in page.content.decode()
    response = client.post(f"/actions/{action.pk}/approve/", follow=True)
    assert "four eyes" in _messages(response)
    action.refresh_from_db()
    assert action.state == ActionState.AWAITING_APPROVAL


@pytest.mark.django_db
def test_reject_needs_a_reason(client_for, approver):
    tag = make_tag()
    action = make_action(tag)
    client = client_for(approver)
    response = client.post(f"/actions/{action.pk}/reject/", {"reason": "  "}, follow=True)
    assert "reason is required" in _messages(response)
    client.post(f"/actions/{action.pk}/reject/", {"reason": "Release freeze"})
    action.refresh_from_db()
    assert action.state == ActionState.REJECTED
    assert Approval.objects.get(action=action).reason == "Release freeze"


@pytest.mark.django_db
def test_approver_cancels_an_action(client_for, approver):
    tag = make_tag()
    action = make_action(tag)
    client_for(approver).post(f"/actions/{action.pk}/cancel/", {"reason": "not needed"})
    action.refresh_from_db()
    assert action.state == ActionState.CANCELLED


@pytest.mark.django_db
def test_unknown_operation_is_refused(client_for, approver):
    tag = make_tag()
    action = make_action(tag)
    assert client_for(approver).post(f"/actions/{action.pk}/explode/").status_code == 403


@pytest.mark.django_db
def test_next_outside_this_site_is_ignored(client_for, approver):
    tag = make_tag()
    action = make_action(tag)
    response = client_for(approver).post(
        f"/actions/{action.pk}/cancel/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == f"/actions/{action.pk}/"


@pytest.mark.django_db
def test_request_rebuild_creates_an_action_waiting_for_someone_else(client_for, approver):
    tag = make_tag()
    make_findings(tag, 3, severities=["critical"])
    response = client_for(approver).post(f"/tags/{tag.pk}/rebuild/", follow=True)
    assert response.status_code == 200
    action = RemediationAction.objects.get(tag=tag)
    assert action.requested_by == approver
    assert action.state == ActionState.AWAITING_APPROVAL
    page = response.content.decode()
    assert "Rebuild of" in page


@pytest.mark.django_db
def test_action_detail_shows_timeline_buttons_and_patch(client_for, approver, second_approver):
    action = make_patchable_action(requested_by=second_approver)
    findings = list(action.findings.all())
    client = client_for(approver)
    client.post(f"/actions/{action.pk}/approve/")
    page = client.get(f"/actions/{action.pk}/").content.decode()
    assert "awaiting_approval" in page and "approved" in page  # the timeline
    assert findings[0].vulnerability_id in page
    assert 'class="diff-add"' in page  # the Dockerfile patch, coloured
    assert "Cancel action" in page
