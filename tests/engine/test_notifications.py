"""Email and Slack notifications; a failure never breaks a transition; the URL stays secret."""

from __future__ import annotations

import json

import pytest

from remediator.engine.models import ActionState, AuditEvent, Policy, RemediationAction
from remediator.engine.notifications import action_notify
from remediator.engine.services import action_dispatch, scan_evaluate

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db
SLACK_PATH = "/services/T000/B000/XXXXSECRETXXXX"


@pytest.fixture
def channels(settings, httpserver):
    settings.NOTIFY_EMAIL_TO = ["secops@example.com"]
    settings.DEFAULT_FROM_EMAIL = "remediator@example.com"
    settings.SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    return settings


def no_secret_in_audit() -> bool:
    texts = [f"{e.message} {json.dumps(e.data)}" for e in AuditEvent.objects.all()]
    return not any("XXXXSECRETXXXX" in text for text in texts)


def test_awaiting_approval_goes_to_email_and_slack(
    defaults, channels, httpserver, mailoutbox, eager, django_capture_on_commit_callbacks
):
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("ok")

    with django_capture_on_commit_callbacks(execute=True):
        [action] = scan_evaluate(scan_id=ingest(vuln()).pk)

    [mail] = mailoutbox
    assert mail.to == ["secops@example.com"] and mail.from_email == "remediator@example.com"
    assert mail.subject == (
        "[Remediator] rebuild of registry.example.com/acme/api:1.4 needs approval"
    )
    assert "CVE-2024-6119" in mail.body
    assert f"https://remediator.example.com/api/v1/actions/{action.pk}/" in mail.body
    [(request, _)] = httpserver.log
    assert "needs approval" in request.get_json()["text"]
    call = AuditEvent.objects.get(kind="provider_call", actor_label="provider:slack")
    assert call.data["url"] == "slack webhook" and call.data["status"] == 200
    assert no_secret_in_audit()


def test_slack_failure_is_audited_without_its_url_and_breaks_nothing(
    defaults, channels, httpserver, mailoutbox, eager, django_capture_on_commit_callbacks
):
    httpserver.expect_request(SLACK_PATH, method="POST").respond_with_data("no", status=500)

    with django_capture_on_commit_callbacks(execute=True):
        [action] = scan_evaluate(scan_id=ingest(vuln()).pk)

    assert RemediationAction.objects.get(pk=action.pk).state == ActionState.AWAITING_APPROVAL
    assert len(mailoutbox) == 1
    failed = AuditEvent.objects.get(kind="notification", data__channel="slack")
    assert failed.message == "slack notification failed: slack webhook answered 500"
    assert no_secret_in_audit()


def test_unreachable_slack_is_a_logged_failure(defaults, settings, eager):
    settings.SLACK_WEBHOOK_URL = "http://127.0.0.1:9" + SLACK_PATH  # nothing listens there
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)

    assert action_notify(action_id=action.pk, event="failed") == []
    assert no_secret_in_audit()


def test_policy_channels_choose_where_it_goes(defaults, channels, httpserver, mailoutbox):
    Policy.objects.update(notify_channels=["email"])
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)

    assert action_notify(action_id=action.pk, event="verified") == ["email"]
    assert httpserver.log == []
    assert mailoutbox[0].subject.endswith("verified: the findings are fixed")


def test_notify_action_tells_people_about_unfixable_criticals(defaults, channels, mailoutbox):
    [action] = scan_evaluate(scan_id=ingest(vuln("CVE-2025-0002", "glibc", fixed="")).pk)
    assert (action.kind, action.state) == ("notify", ActionState.APPROVED)
    channels.SLACK_WEBHOOK_URL = ""

    done = action_dispatch(action_id=action.pk)

    assert done.state == ActionState.SUCCEEDED
    assert mailoutbox[0].subject.endswith("findings need attention")
    assert "CVE-2025-0002" in mailoutbox[0].body
