"""A dispatched rebuild whose CI run never reports an end is failed after a deadline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from remediator.engine.models import RemediationAction
from remediator.engine.services import action_poll, action_transition, scan_evaluate

from .factories import ingest, vuln

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(people, gitlab, settings):
    settings.ACTION_RUN_TIMEOUT_MINUTES = 60
    [action] = scan_evaluate(scan_id=ingest(vuln(), tag="1.4").pk)
    action_transition(action_id=action.pk, to="approved", actor_label="test", reason="ok")
    action_transition(
        action_id=action.pk,
        to="dispatched",
        actor_label="test",
        reason="dispatching",
        build_target=gitlab,
        external_id="1001",
        provider_state={"pipeline_id": 1001},
    )
    return action


def test_a_run_past_the_deadline_fails_without_asking_ci(running, httpserver):
    RemediationAction.objects.filter(pk=running.pk).update(
        dispatched_at=timezone.now() - timedelta(minutes=61)
    )

    polled = action_poll(action_id=running.pk)

    assert polled.state == "failed"
    assert "within 60 minutes" in polled.error
    assert len(httpserver.log) == 0


def test_a_run_within_the_deadline_is_polled(running, httpserver):
    httpserver.expect_request("/api/v4/projects/42/pipelines/1001").respond_with_json(
        {"id": 1001, "status": "running", "web_url": "https://gitlab.example/p/1001"}
    )

    polled = action_poll(action_id=running.pk)

    assert polled.state == "running"
    assert len(httpserver.log) == 1
