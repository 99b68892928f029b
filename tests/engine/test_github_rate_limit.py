"""A rebuild dispatched to GitHub while the token is rate limited: the worker is released
at once and the task retried at the reset (at most GITHUB_RATE_LIMIT_MAX_WAIT later,
audited on the action), within ACTION_DISPATCH_RETRIES."""

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
RUNS = "/repos/acme/api/actions/workflows/rebuild.yml/runs"
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


def retried(monkeypatch) -> dict:
    """What the dispatch task asks Celery for when it retries (Celery's own retry is
    replaced by a recorder: the test drives the retry itself)."""
    asked: dict = {}

    def retry(**kwargs):
        asked.update(kwargs)
        raise Retry()

    monkeypatch.setattr(action_dispatch_task, "retry", retry)
    return asked


def test_a_rate_limited_dispatch_is_retried_at_the_reset_and_then_succeeds(
    defaults, github, httpserver, settings, monkeypatch
):
    settings.ACTION_DISPATCH_BACKOFF = 30
    action = approved()
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        LIMITED, status=403, headers=limited(int(time.time()) + 120)
    )
    httpserver.expect_oneshot_request(DISPATCH, method="POST").respond_with_json(
        {
            "workflow_run_id": 7,
            "run_url": "x",
            "html_url": "https://github.com/acme/api/actions/runs/7",
        }
    )
    asked = retried(monkeypatch)

    with pytest.raises(Retry):
        action_dispatch_task(action.pk)

    assert 110 <= asked["countdown"] <= 122  # the reset, not the 30 s backoff
    assert not asked["exc"].permanent
    assert len(httpserver.log) == 1
    [waited] = AuditEvent.objects.filter(action=action, data__rate_limited=True)
    assert waited.message.startswith("dispatch: rate limited (403): retried at ")
    assert "retry 1 of 6" in waited.message and "no worker waits" in waited.message

    httpserver.expect_oneshot_request(RUNS, method="GET").respond_with_json(
        {"total_count": 0, "workflow_runs": []}  # the retry first looks for an earlier run
    )
    done = action_dispatch(action_id=action.pk)  # what the retry runs

    assert (done.state, done.external_id) == (S.DISPATCHED, "7")


def test_a_reset_hours_away_is_waited_for_in_steps_of_the_longest_wait(
    defaults, github, httpserver, settings, monkeypatch
):
    settings.GITHUB_RATE_LIMIT_MAX_WAIT = 900
    action = approved()
    httpserver.expect_request(DISPATCH, method="POST").respond_with_json(
        LIMITED, status=429, headers=limited(int(time.time()) + 4 * 3600)
    )
    asked = retried(monkeypatch)

    with pytest.raises(Retry):
        action_dispatch_task(action.pk)

    assert asked["countdown"] == 900
    [waited] = AuditEvent.objects.filter(action=action, data__rate_limited=True)
    assert "the reset is 1440" in waited.message  # 14,401 s: named, not hidden
    assert RemediationAction.objects.get(pk=action.pk).state == S.DISPATCHED


def test_a_rate_limit_that_outlasts_the_retries_fails_the_action_naming_it(
    defaults, github, httpserver, settings, monkeypatch
):
    settings.ACTION_DISPATCH_RETRIES = 2
    action = approved()
    httpserver.expect_request(DISPATCH, method="POST").respond_with_json(
        LIMITED, status=403, headers=limited(int(time.time()) + 600)
    )
    action_dispatch_task.push_request(retries=2)  # the task's third run
    try:
        assert action_dispatch_task(action.pk) == "failed"
    finally:
        action_dispatch_task.pop_request()

    failed = RemediationAction.objects.get(pk=action.pk)
    assert failed.state == S.FAILED
    assert failed.error.startswith("gave up after 2 retries: github: POST ")
    assert "was rate limited (403); try again after" in failed.error
