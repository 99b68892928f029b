"""One transitions table, one guarded function, an AuditEvent per change."""

from __future__ import annotations

import pytest

from findings.models import Finding
from remediator.engine.models import ActionState, AuditEvent, RemediationAction
from remediator.engine.services import (
    TRANSITIONS,
    ActionNotAllowed,
    action_transition,
    scan_evaluate,
)

from .factories import ingest, vuln

S = ActionState
pytestmark = pytest.mark.django_db


@pytest.fixture
def action(defaults) -> RemediationAction:
    scan = ingest(vuln())
    [created] = scan_evaluate(scan_id=scan.pk)
    return created


def at(action: RemediationAction, state: str) -> RemediationAction:
    """Put the action in ``state`` without going through the machine (test setup)."""
    RemediationAction.objects.filter(pk=action.pk).update(state=state)
    return RemediationAction.objects.get(pk=action.pk)


ALLOWED = [(frm, to) for frm, tos in TRANSITIONS.items() for to in sorted(tos)]


@pytest.mark.parametrize(("frm", "to"), ALLOWED, ids=[f"{f}->{t}" for f, t in ALLOWED])
def test_every_allowed_transition_moves_and_is_audited(action, frm, to):
    at(action, frm)
    before = AuditEvent.objects.count()

    moved = action_transition(action_id=action.pk, to=to, actor_label="test", reason="because")

    assert moved.state == to
    assert RemediationAction.objects.get(pk=action.pk).state == to
    event = AuditEvent.objects.filter(action=action, kind="transition").latest("id")
    assert (event.from_state, event.to_state, event.message) == (frm, to, "because")
    assert event.actor_label == "test" and event.created_at is not None
    assert AuditEvent.objects.count() == before + 1


REFUSED = [
    (S.AWAITING_APPROVAL, S.DISPATCHED),
    (S.PROPOSED, S.SUCCEEDED),
    (S.DISPATCHED, S.APPROVED),
    (S.VERIFIED, S.FAILED),
    (S.REJECTED, S.APPROVED),
    (S.CANCELLED, S.AWAITING_APPROVAL),
    (S.SUCCEEDED, S.RUNNING),
]


@pytest.mark.parametrize(("frm", "to"), REFUSED, ids=[f"{f}->{t}" for f, t in REFUSED])
def test_transition_not_in_the_table_is_refused_and_changes_nothing(action, frm, to):
    at(action, frm)
    events = AuditEvent.objects.count()

    with pytest.raises(ActionNotAllowed, match=f"action is {frm}; it cannot move to {to}"):
        action_transition(action_id=action.pk, to=to)

    assert RemediationAction.objects.get(pk=action.pk).state == frm
    assert AuditEvent.objects.count() == events


def test_transition_records_the_person_who_made_it(action, people):
    action_transition(action_id=action.pk, to=S.CANCELLED, actor=people["bob"], reason="no")
    event = AuditEvent.objects.filter(action=action).latest("id")
    assert (event.actor, event.actor_label) == (people["bob"], "bob")


def test_expected_state_guards_against_a_stale_click(action):
    with pytest.raises(ActionNotAllowed, match="only approved or dispatched"):
        action_transition(action_id=action.pk, to=S.CANCELLED, expect=(S.APPROVED, S.DISPATCHED))


def test_new_action_is_proposed_then_awaits_approval_with_its_findings_in_remediation(action):
    events = list(action.events.filter(kind="transition").order_by("id"))
    assert [(e.from_state, e.to_state) for e in events] == [
        ("", "proposed"),
        ("proposed", "awaiting_approval"),
    ]
    assert events[0].actor_label == "policy:rebuild-fixable-critical-high"
    assert action.state == S.AWAITING_APPROVAL
    assert list(action.findings.values_list("status", flat=True)) == ["in_remediation"]


@pytest.mark.parametrize("end", [S.REJECTED, S.CANCELLED, S.SUPERSEDED])
def test_findings_go_back_to_open_when_the_rebuild_ends_without_fixing_them(action, end):
    action_transition(action_id=action.pk, to=end)
    assert list(action.findings.values_list("status", flat=True)) == ["open"]


def test_failed_rebuild_releases_findings_and_retry_takes_them_again(action):
    at(action, S.RUNNING)
    action_transition(action_id=action.pk, to=S.FAILED)
    assert Finding.objects.get().status == "open"
    action_transition(action_id=action.pk, to=S.APPROVED)
    assert Finding.objects.get().status == "in_remediation"


def test_finished_states_stamp_finished_at_and_success_sets_a_verify_deadline(action):
    at(action, S.RUNNING)
    done = action_transition(action_id=action.pk, to=S.SUCCEEDED)
    assert done.finished_at is not None and done.verify_deadline > done.finished_at
