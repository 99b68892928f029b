"""A worker killed between the CI trigger and recording its run: the redelivered dispatch
finds the run by its correlation id instead of triggering CI a second time."""

from __future__ import annotations

import pytest

from remediator.engine.models import ActionState, AuditEvent, RemediationAction
from remediator.engine.services import action_dispatch, action_transition, scan_evaluate

from .conftest import pipeline
from .factories import ingest, vuln

S = ActionState
pytestmark = pytest.mark.django_db
TRIGGER = "/api/v4/projects/42/trigger/pipeline"
PIPELINES = "/api/v4/projects/42/pipelines"


def dispatched_without_run(gitlab) -> RemediationAction:
    """Approved, then claimed (dispatched) by a worker that died before the trigger's
    answer was recorded."""
    [action] = scan_evaluate(scan_id=ingest(vuln(), digest_no=1).pk)
    action_transition(action_id=action.pk, to=S.APPROVED)
    return action_transition(action_id=action.pk, to=S.DISPATCHED, build_target=gitlab)


def variables(correlation_id: str) -> list[dict]:
    return [
        {"key": "REMEDIATOR_IMAGE", "value": "x", "variable_type": "env_var"},
        {"key": "REMEDIATOR_CORRELATION_ID", "value": correlation_id, "variable_type": "env_var"},
    ]


def test_the_run_an_earlier_trigger_started_is_found_not_triggered_again(
    defaults, gitlab, httpserver
):
    action = dispatched_without_run(gitlab)
    httpserver.expect_request(PIPELINES, method="GET").respond_with_json(
        [pipeline(1002, "running", httpserver), pipeline(1001, "running", httpserver)]
    )
    httpserver.expect_request(f"{PIPELINES}/1002/variables").respond_with_json(
        variables("someone-else")
    )
    httpserver.expect_request(f"{PIPELINES}/1001/variables").respond_with_json(
        variables(str(action.correlation_id))
    )

    done = action_dispatch(action_id=action.pk)

    assert (done.state, done.external_id) == (S.RUNNING, "1001")
    assert not [r for r, _ in httpserver.log if r.path == TRIGGER]
    listed = next(r for r, _ in httpserver.log if r.path == PIPELINES)
    assert listed.args["source"] == "trigger" and listed.args["ref"] == "main"
    assert listed.headers["PRIVATE-TOKEN"]
    assert AuditEvent.objects.filter(
        action=action, message__contains="already started with this correlation id"
    ).exists()


def test_no_earlier_run_means_the_trigger_is_sent(defaults, gitlab, httpserver):
    action = dispatched_without_run(gitlab)
    httpserver.expect_request(PIPELINES, method="GET").respond_with_json(
        [pipeline(1002, "running", httpserver)]
    )
    httpserver.expect_request(f"{PIPELINES}/1002/variables").respond_with_json(
        variables("someone-else")
    )
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1003, "pending", httpserver), status=201
    )

    done = action_dispatch(action_id=action.pk)

    assert (done.state, done.external_id) == (S.DISPATCHED, "1003")
    assert len([r for r, _ in httpserver.log if r.path == TRIGGER]) == 1


def test_a_first_dispatch_does_not_look_for_earlier_runs(defaults, gitlab, httpserver):
    [action] = scan_evaluate(scan_id=ingest(vuln(), digest_no=1).pk)
    action_transition(action_id=action.pk, to=S.APPROVED, build_target=gitlab)
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )

    action_dispatch(action_id=action.pk)

    assert [r.path for r, _ in httpserver.log] == [TRIGGER]
