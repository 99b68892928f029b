"""An approval made while the broker was away is not stuck for ever: the beat poll sends
the dispatch again once the action has stayed approved for ACTION_DISPATCH_LOST_AFTER."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from remediator.engine.models import ActionState, RemediationAction
from remediator.engine.services import action_transition, scan_evaluate
from remediator.engine.tasks import actions_poll_task
from tests.engine.conftest import (  # noqa: F401 (fixtures)
    defaults,
    eager,
    engine_settings,
    gitlab,
    pipeline,
)
from tests.engine.factories import ingest, vuln

S = ActionState
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("defaults", "gitlab", "eager")]
TRIGGER = "/api/v4/projects/42/trigger/pipeline"


def approved_without_dispatch(digest_no: int, *, minutes_ago: float) -> RemediationAction:
    """Approved in a test transaction: the on-commit dispatch never runs, as when the
    broker refused it."""
    [action] = scan_evaluate(scan_id=ingest(vuln(), digest_no=digest_no).pk)
    action_transition(action_id=action.pk, to=S.APPROVED)
    RemediationAction.objects.filter(pk=action.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return action


def test_an_approval_whose_dispatch_was_lost_is_dispatched_by_the_poll(httpserver, settings):
    settings.ACTION_DISPATCH_LOST_AFTER = 300
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    lost = approved_without_dispatch(1, minutes_ago=6)

    actions_poll_task()

    lost.refresh_from_db()
    assert (lost.state, lost.external_id) == (S.DISPATCHED, "1001")
    assert len([r for r, _ in httpserver.log if r.path == TRIGGER]) == 1


def test_a_fresh_approval_is_left_to_its_own_dispatch(httpserver, settings):
    settings.ACTION_DISPATCH_LOST_AFTER = 300
    fresh = approved_without_dispatch(1, minutes_ago=1)

    actions_poll_task()

    fresh.refresh_from_db()
    assert fresh.state == S.APPROVED
    assert not [r for r, _ in httpserver.log if r.path == TRIGGER]
