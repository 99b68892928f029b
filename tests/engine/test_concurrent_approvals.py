"""Two people approve the same action at the same moment: one wins, the build runs once."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from remediator.engine.models import ActionState, Approval, RemediationAction
from remediator.engine.services import ActionNotAllowed, action_approve, scan_evaluate

from ..waiting import wait_for
from .conftest import pipeline
from .factories import ingest, vuln

TRIGGER = "/api/v4/projects/42/trigger/pipeline"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_approvals_dispatch_once(celery_live_worker, people, gitlab, httpserver):
    carol = User.objects.create(username="carol")
    carol.groups.add(Group.objects.get(name="Security approvers"))
    httpserver.expect_request(TRIGGER, method="POST").respond_with_json(
        pipeline(1001, "pending", httpserver), status=201
    )
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user) -> None:
        start.wait()
        try:
            action_approve(action_id=action.pk, user=user)
            outcomes.append("approved")
        except ActionNotAllowed as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (people["bob"], carol)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    winner, loser = sorted(outcomes, key=lambda outcome: outcome != "approved")
    assert winner == "approved"
    assert loser.endswith("; only awaiting_approval can be approved")  # approved or dispatched
    assert Approval.objects.filter(action=action).count() == 1
    assert wait_for(lambda: RemediationAction.objects.get(pk=action.pk).external_id == "1001")
    assert RemediationAction.objects.get(pk=action.pk).state == ActionState.DISPATCHED
    assert len([r for r, _ in httpserver.log if r.path == TRIGGER]) == 1
