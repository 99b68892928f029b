"""No approval bound to fail without warning: an action that cannot be dispatched is
refused on approval (page and API) naming what to configure, and every card says which
build target it will use. "Open fix PR" takes over a waiting rebuild's findings."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from remediator.engine.models import ActionState, AuditEvent, BuildTarget, RemediationAction
from remediator.engine.readiness import action_readiness
from remediator.engine.services import (
    ActionNotAllowed,
    action_approve,
    action_request_pull_request,
    action_request_rebuild,
    action_transition,
    scan_evaluate,
)

from .factories import ingest, tag_of, vuln

S = ActionState
pytestmark = pytest.mark.django_db
SECRET_VALUE = "glptt-very-secret-value"


@pytest.fixture
def waiting(people) -> RemediationAction:
    """A rebuild of registry.example.com/acme/api awaiting approval, asked for by the
    default policy (no owner: anyone may approve it)."""
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    assert action.state == S.AWAITING_APPROVAL
    return action


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_approval_without_a_matching_target_is_refused_naming_the_image(waiting, people):
    response = api(people["bob"]).post(f"/api/v1/actions/{waiting.pk}/approve/", {})

    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "not_dispatchable"
    assert "no enabled build target matches registry.example.com/acme/api" in body["detail"]
    assert "/setup/" in body["detail"]
    waiting.refresh_from_db()
    assert waiting.state == S.AWAITING_APPROVAL and not waiting.approvals.exists()


def test_approval_with_a_target_whose_secret_is_unset_names_the_variable_not_a_value(
    waiting, people, gitlab, monkeypatch
):
    monkeypatch.delenv("REMEDIATOR_SECRET_GITLAB_TRIGGER")

    with pytest.raises(ActionNotAllowed) as refused:
        action_approve(action_id=waiting.pk, user=people["bob"])

    assert refused.value.code == "not_dispatchable"
    assert "acme-gitlab: secret REMEDIATOR_SECRET_GITLAB_TRIGGER is not set" in str(refused.value)
    assert "set the secrets of build target acme-gitlab" in str(refused.value)


def test_a_disabled_target_does_not_count(waiting, people, gitlab):
    BuildTarget.objects.filter(pk=gitlab.pk).update(enabled=False)

    readiness = action_readiness(waiting)

    assert not readiness.ready and readiness.target is None
    assert readiness.blockers == ("no enabled build target matches registry.example.com/acme/api",)


def test_a_ready_action_names_its_target_and_is_approved(waiting, people, gitlab):
    readiness = action_readiness(waiting)
    assert readiness.ready and readiness.target == gitlab and readiness.secrets_set

    assert action_approve(action_id=waiting.pk, user=people["bob"]).state == S.APPROVED


def test_approve_anyway_passes_an_unreadable_secret_with_a_reason_and_is_audited(
    waiting, people, gitlab, monkeypatch
):
    monkeypatch.delenv("REMEDIATOR_SECRET_GITLAB_TRIGGER")
    client = api(people["bob"])

    no_reason = client.post(f"/api/v1/actions/{waiting.pk}/approve/", {"approve_anyway": True})
    assert no_reason.status_code == 422 and no_reason.json()["error"] == "reason_required"

    response = client.post(
        f"/api/v1/actions/{waiting.pk}/approve/",
        {"approve_anyway": True, "reason": "the worker has the token"},
    )

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "approved"
    event = AuditEvent.objects.get(action=waiting, kind="approval")
    assert event.data["approved_anyway"] == [
        "build target acme-gitlab: secret REMEDIATOR_SECRET_GITLAB_TRIGGER is not set"
    ]
    assert "anyway" in event.message and event.actor == people["bob"]


def test_approve_anyway_does_not_pass_a_missing_target(waiting, people):
    response = api(people["bob"]).post(
        f"/api/v1/actions/{waiting.pk}/approve/", {"approve_anyway": True, "reason": "try"}
    )

    assert response.status_code == 409 and response.json()["error"] == "not_dispatchable"
    assert "no enabled build target matches" in response.json()["detail"]


def test_four_eyes_is_answered_before_the_target(people):
    tag = tag_of(ingest(vuln()))
    action = action_request_rebuild(tag=tag, user=people["alice"])

    with pytest.raises(ActionNotAllowed) as refused:
        action_approve(action_id=action.pk, user=people["alice"])

    assert refused.value.code == "four_eyes"


def test_retry_of_a_failed_action_without_a_target_is_refused(waiting, people, gitlab):
    action_approve(action_id=waiting.pk, user=people["bob"])
    action_transition(action_id=waiting.pk, to=S.FAILED, error="CI run failed")
    BuildTarget.objects.all().delete()

    response = api(people["bob"]).post(f"/api/v1/actions/{waiting.pk}/retry/", {})

    assert response.status_code == 409 and response.json()["error"] == "not_dispatchable"
    assert RemediationAction.objects.get(pk=waiting.pk).state == S.FAILED


def test_rescan_without_aqua_cannot_be_dispatched_and_notify_always_can(waiting):
    rescan = RemediationAction(kind="rescan", repository=waiting.repository)
    notify = RemediationAction(kind="notify", repository=waiting.repository)

    assert action_readiness(rescan).blockers == ("Aqua is not configured (AQUA_URL)",)
    assert action_readiness(notify).ready


def test_dashboard_card_disables_approve_and_the_post_is_refused_anyway(waiting, people, client):
    client.force_login(people["bob"])

    page = client.get("/approvals/").content.decode()

    assert "Cannot be dispatched:" in page
    assert "no enabled build target matches registry.example.com/acme/api" in page
    assert f'id="why-{waiting.pk}-approve"' in page and "/setup/#build-targets" in page
    response = client.post(f"/actions/{waiting.pk}/approve/", follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Not done: not approved: this rebuild cannot be") for m in messages)
    assert RemediationAction.objects.get(pk=waiting.pk).state == S.AWAITING_APPROVAL


def test_every_card_names_the_target_that_will_be_used(waiting, people, gitlab, client):
    client.force_login(people["vera"])
    for path in ("/approvals/", f"/actions/{waiting.pk}/", "/actions/"):
        page = client.get(path).content.decode()
        assert "Build target <strong>acme-gitlab</strong>" in page, path
        assert "secrets set" in page, path
        assert "Cannot be dispatched" not in page, path


# --- "Open fix PR" beside a rebuild


@pytest.fixture
def github(monkeypatch, db) -> BuildTarget:
    monkeypatch.setenv("REMEDIATOR_SECRET_GITHUB", SECRET_VALUE)
    return BuildTarget.objects.create(
        name="api-github",
        provider="github",
        url="https://github.example.com/api/v3",
        project="acme/api",
        workflow="build.yml",
        token_env="REMEDIATOR_SECRET_GITHUB",
        image_patterns=["registry.example.com/acme/*"],
    )


def test_fix_pr_takes_over_a_waiting_rebuilds_findings_and_supersedes_it(waiting, people, github):
    covered = set(waiting.findings.values_list("pk", flat=True))

    pull = action_request_pull_request(tag=waiting.tag, user=people["alice"])

    assert set(pull.findings.values_list("pk", flat=True)) == covered
    assert pull.took_over == (waiting.pk, len(covered))
    waiting.refresh_from_db()
    assert waiting.state == S.SUPERSEDED and not waiting.findings.exists()
    moved = AuditEvent.objects.get(action=waiting, message__contains="moved to fix pull")
    assert moved.actor == people["alice"] and moved.data["to"] == pull.pk
    assert AuditEvent.objects.filter(action=pull, message__startswith="took over").exists()


def test_fix_pr_is_refused_naming_a_rebuild_already_under_way(waiting, people, github):
    action_approve(action_id=waiting.pk, user=people["bob"])
    action_transition(action_id=waiting.pk, to=S.DISPATCHED)
    client = api(people["alice"])

    response = client.post(f"/api/v1/images/{waiting.repository_id}/pull-request/", {})

    assert response.status_code == 409
    assert response.json()["error"] == "covered_by_rebuild"
    assert f"rebuild #{waiting.pk} (dispatched)" in response.json()["detail"]
    assert not RemediationAction.objects.filter(kind="pull_request").exists()


def test_fix_pr_message_speaks_of_a_pull_request_and_links_to_it(waiting, people, github, client):
    client.force_login(people["alice"])

    response = client.post(f"/tags/{waiting.tag_id}/pull-request/", follow=True)

    pull = RemediationAction.objects.get(kind="pull_request")
    [message] = [str(m) for m in response.context["messages"]]
    assert f'<a href="/actions/{pull.pk}/">fix pull request #{pull.pk}</a>' in message
    assert f"took over 1 finding(s) from rebuild #{waiting.pk}" in message
    assert "rebuild of" not in message.lower()
    page = client.get(f"/actions/{pull.pk}/").content.decode()
    assert "Approve &amp; open PR" in page
