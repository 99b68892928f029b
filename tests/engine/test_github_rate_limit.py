"""A rebuild dispatched to GitHub while the token is rate limited: waited out when the
reset is near, retried by the task no sooner than the reset when it is not."""

from __future__ import annotations

import time

import pytest
from celery.exceptions import Retry

from remediator.engine.models import ActionState, AuditEvent, BuildTarget, RemediationAction
from remediator.engine.services import action_dispatch, action_transition, scan_evaluate
from remediator.engine.tasks import action_dispatch_task

from .factories import ingest, vuln

S = ActionState
pytestmark = pytest.mark.django_db
DISPATCH = "/repos/acme/api/actions/workflows/rebuild.yml/dispatches"
LIMITED = {
    "message": "API rate limit exceeded for installation ID 1.",
    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
}


@pytest.fixture
def github(httpserver, monkeypatch, db):
    monkeypatch.setenv("REMEDIATOR_SECRET_GITHUB", "ghp_not-a-real-token")
    return BuildTarget.objects.create(
        name="acme-github",
        provider="github",
        url=httpserver.url_for("").rstrip("/"),
        project="acme/api",
        ref="main",
        workflow="rebuild.yml",
        token_env="REMEDIATOR_SECRET_GITHUB",
        image_patterns=["registry.example.com/acme/*"],
    )


def approved() -> RemediationAction:
    [action] = scan_evaluate(scan_id=ingest(vuln(), digest_no=1).pk)
    return action_transition(action_id=action.pk, to=S.APPROVED)


def limited(reset: int) -> dict[str, str]:
    return {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
            "x-ratelimit-used": "5000", "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core"}  # fmt: skip


def test_a_rate_limited_dispatch_succeeds_after_the_reset(defaults, github, httpserver):
    action = approved()
    reset = int(time.time()) + 2
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        LIMITED, status=403, headers=limited(reset)
    )
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        {
            "workflow_run_id": 7,
            "run_url": "x",
            "html_url": "https://github.com/acme/api/actions/runs/7",
        }
    )

    done = action_dispatch(action_id=action.pk)

    assert (done.state, done.external_id) == (S.DISPATCHED, "7")
    assert time.time() >= reset
    events = AuditEvent.objects.filter(actor_label="provider:github").order_by("id")
    calls = [e for e in events if "duration_ms" in e.data]  # the HTTP calls themselves
    assert [c.data["status"] for c in calls] == [403, 200]
    assert calls[0].data["wait_s"] > 0 and calls[1].data["wait_s"] == 0
    assert "rate limited: waiting" in calls[0].message


def test_a_far_reset_leaves_the_action_to_a_task_retry_after_the_reset(
    defaults, github, httpserver, settings, monkeypatch
):
    settings.GITHUB_RATE_LIMIT_MAX_WAIT = 1
    settings.ACTION_DISPATCH_BACKOFF = 30
    action = approved()
    httpserver.expect_request(DISPATCH, method="POST").respond_with_json(
        LIMITED, status=429, headers=limited(int(time.time()) + 900)
    )
    asked = {}

    def retry(**kwargs):
        asked.update(kwargs)
        raise Retry()

    monkeypatch.setattr(action_dispatch_task, "retry", retry)

    with pytest.raises(Retry):
        action_dispatch_task(action.pk)

    assert 880 <= asked["countdown"] <= 902  # the reset, not the 30 s backoff
    assert not asked["exc"].permanent
    assert RemediationAction.objects.get(pk=action.pk).state != S.FAILED
    assert len(httpserver.log) == 1
