"""The RemediationAction state machine: one table, one guarded transition function.

Every change of state goes through :func:`action_transition`, which takes a row
lock, refuses anything not in :data:`TRANSITIONS`, applies the side effects
that belong to the new state (timestamps, findings' status, what to enqueue
after commit) and writes an AuditEvent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from findings.status import findings_remediation_end, findings_remediation_start
from remediator.engine.audit import audit_record
from remediator.engine.models import BUILDING_KINDS, OPEN_STATES, ActionState, RemediationAction

from . import queue

S = ActionState

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PROPOSED: frozenset({S.AWAITING_APPROVAL, S.APPROVED, S.CANCELLED, S.SUPERSEDED}),
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED, S.SUPERSEDED}),
    S.APPROVED: frozenset({S.DISPATCHED, S.FAILED, S.CANCELLED, S.SUPERSEDED}),
    S.DISPATCHED: frozenset({S.RUNNING, S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.CANCELLED}),
    S.SUCCEEDED: frozenset({S.VERIFIED, S.VERIFICATION_FAILED, S.CANCELLED}),
    S.FAILED: frozenset({S.APPROVED}),  # retry
    S.VERIFICATION_FAILED: frozenset({S.APPROVED}),  # retry
    S.VERIFIED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.SUPERSEDED: frozenset(),
}
"""from state -> the states it may move to. Anything else is refused."""

FINISHED_STATES = frozenset(
    {S.SUCCEEDED, S.FAILED, S.VERIFIED, S.VERIFICATION_FAILED, S.REJECTED, S.CANCELLED}
    | {S.SUPERSEDED}
)
COOLDOWN_STATES = (S.FAILED, S.VERIFICATION_FAILED, S.REJECTED)
"""A recent action that ended in one of these blocks a new one of its kind for its tag."""
NOTIFY_ON = {
    S.AWAITING_APPROVAL: "awaiting_approval",
    S.FAILED: "failed",
    S.VERIFIED: "verified",
    S.VERIFICATION_FAILED: "verification_failed",
}


class ActionNotAllowed(Exception):
    """The request is refused; ``str(exc)`` says why. ``code`` names the kind of refusal:
    ``wrong_state`` (HTTP 409), ``four_eyes`` / ``permission_denied`` (403), ``invalid`` (400).
    """

    def __init__(self, message: str, *, code: str = "wrong_state") -> None:
        super().__init__(message)
        self.code = code


def allowed(from_state: str, to_state: str) -> bool:
    return to_state in TRANSITIONS.get(from_state, frozenset())


def action_transition(
    *,
    action_id: int,
    to: str,
    actor: Any = None,
    actor_label: str = "",
    reason: str = "",
    expect: tuple[str, ...] | None = None,
    **changes: Any,
) -> RemediationAction:
    """Move one action to ``to`` under a row lock, or raise ActionNotAllowed.

    ``expect``: the states the caller believes the action is in (refused
    otherwise, so a second click finds the first one's result). ``changes``
    are other fields to set in the same save.
    """
    with transaction.atomic():
        action = RemediationAction.objects.select_for_update().get(pk=action_id)
        frm = action.state
        if expect is not None and frm not in expect:
            wanted = " or ".join(expect)
            raise ActionNotAllowed(f"action is {frm}; only {wanted} can move to {to}")
        if not allowed(frm, to):
            raise ActionNotAllowed(f"action is {frm}; it cannot move to {to}")
        now = timezone.now()
        action.state = to
        for name, value in changes.items():
            setattr(action, name, value)
        fields = {"state", "updated_at", *changes}
        if to in FINISHED_STATES:
            action.finished_at = now
            fields.add("finished_at")
        if to == S.DISPATCHED:
            action.dispatched_at = now
            fields.add("dispatched_at")
        if to == S.SUCCEEDED and action.kind in BUILDING_KINDS:
            action.verify_deadline = now + timedelta(minutes=settings.VERIFY_AFTER_MINUTES)
            action.verify_rescan_requested_at = None
            fields |= {"verify_deadline", "verify_rescan_requested_at"}
        if to == S.APPROVED and frm in (S.FAILED, S.VERIFICATION_FAILED):
            # a retry starts afresh: nothing may follow or verify the previous CI run
            fresh = {
                "error": "",
                "external_id": "",
                "external_url": "",
                "provider_state": {},
                "verify_deadline": None,
                "verify_rescan_requested_at": None,
                "verified_by_scan": None,
            }
            for name, value in fresh.items():
                setattr(action, name, value)
            fields |= set(fresh)
        action.save(update_fields=sorted(fields))
        _findings_follow(action, frm, to)
        audit_record(
            kind="transition",
            action=action,
            actor=actor,
            actor_label=actor_label,
            from_state=frm,
            to_state=to,
            message=reason or f"{frm} -> {to}",
        )
        _after_commit(action, to)
    return action


def _findings_follow(action: RemediationAction, frm: str, to: str) -> None:
    """Findings covered by an open rebuild or fix pull request are in remediation; back to
    open if it ends without fixing them (a fixed finding was closed by the scan, not here)."""
    if action.kind not in BUILDING_KINDS:
        return
    was_open, is_open = frm in OPEN_STATES, to in OPEN_STATES
    if was_open and not is_open and to != S.VERIFIED:
        findings_remediation_end(action.findings.all())
    elif is_open and not was_open:
        findings_mark_in_remediation(action=action)


def findings_mark_in_remediation(*, action: RemediationAction) -> int:
    if action.kind not in BUILDING_KINDS:
        return 0
    return findings_remediation_start(action.findings.all())


def _after_commit(action: RemediationAction, to: str) -> None:
    if to == S.APPROVED:
        queue.enqueue_dispatch(action.pk)
    event = NOTIFY_ON.get(to)
    if event:
        queue.enqueue_notify(action.pk, event)
