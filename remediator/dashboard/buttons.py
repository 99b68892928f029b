"""Which buttons an action page shows, and why a disabled one is disabled.

Display only: the services decide (and refuse with ActionNotAllowed); the
POST views also check the permission before calling them.
"""

from __future__ import annotations

from dataclasses import dataclass

from remediator.core import permissions
from remediator.engine.models import ActionKind, ActionState, RemediationAction
from remediator.engine.readiness import Readiness, action_readiness
from remediator.engine.selectors import action_requesters

CANCELLABLE = (
    ActionState.PROPOSED,
    ActionState.AWAITING_APPROVAL,
    ActionState.APPROVED,
    ActionState.DISPATCHED,
    ActionState.RUNNING,
    ActionState.SUCCEEDED,
)
RETRYABLE = (ActionState.FAILED, ActionState.VERIFICATION_FAILED)
APPROVE_LABELS = {
    ActionKind.REBUILD: "Approve & rebuild",
    ActionKind.PULL_REQUEST: "Approve & open PR",
}


@dataclass(frozen=True)
class Button:
    op: str
    label: str
    enabled: bool
    reason: str = ""
    needs_reason: bool = False
    style: str = "secondary"
    # Another page's buttons (a finding's decisions) post to ``url``, not the action's
    # operate route; ``target`` keeps the ids of their "why" notes unique.
    url: str = ""
    target: str = ""
    needs_until: bool = False
    needs_justification: bool = False
    """A false positive's OpenVEX justification (findings.justifications)."""
    fix_url: str = ""
    """Where to configure what a disabled button is missing (the go-live checklist)."""


def _decision_blocker(action: RemediationAction, user, requesters: set[int] | None) -> str:
    if not user.has_perm(permissions.APPROVE_ACTION):
        return "Only Security approvers can approve or reject."
    if requesters is None:
        requesters = action_requesters(action)
    if user.pk in requesters:
        return "You asked for this action; someone else must approve it (four eyes)."
    return ""


def _not_ready(readiness: Readiness | None) -> str:
    return readiness.summary if readiness is not None and not readiness.ready else ""


def approval_buttons(
    action: RemediationAction,
    user,
    requesters: set[int] | None = None,
    readiness: Readiness | None = None,
    fix_url: str = "",
) -> list[Button]:
    """Approve and reject. ``requesters``: the action's (from ``actions_requesters``
    for a whole page); looked up when not given. The same rules as the service's: four
    eyes, and no approving what cannot be dispatched (``readiness``; looked up when not
    given), which names what to configure at ``fix_url``."""
    blocker = _decision_blocker(action, user, requesters)
    if readiness is None:
        readiness = action_readiness(action)
    not_ready = _not_ready(readiness)
    return [
        Button(
            "approve",
            APPROVE_LABELS.get(action.kind, "Approve"),
            not (blocker or not_ready),
            blocker or not_ready,
            style="primary",
            fix_url="" if blocker else fix_url,
        ),
        Button("reject", "Reject", not blocker, blocker, needs_reason=True, style="danger"),
    ]


def action_buttons(
    action: RemediationAction, user, readiness: Readiness | None = None, fix_url: str = ""
) -> list[Button]:
    buttons: list[Button] = []
    if action.state == ActionState.AWAITING_APPROVAL:
        buttons += approval_buttons(action, user, readiness=readiness, fix_url=fix_url)
    may = user.has_perm(permissions.APPROVE_ACTION)
    denied = "" if may else "Only Security approvers can change actions."
    if action.state in RETRYABLE:
        not_ready = _not_ready(readiness if readiness is not None else action_readiness(action))
        buttons.append(
            Button(
                "retry",
                "Retry",
                may and not not_ready,
                denied or not_ready,
                style="primary",
                fix_url="" if denied else fix_url,
            )
        )
    if action.state in CANCELLABLE:
        may_cancel = may_operate(action, user, "cancel")
        buttons.append(
            Button(
                "cancel", "Cancel action", may_cancel, "" if may_cancel else denied, style="danger"
            )
        )
    return buttons


def may_operate(action: RemediationAction, user, op: str) -> bool:
    """The server-side permission check of the POST views (the service checks again)."""
    if user.has_perm(permissions.APPROVE_ACTION):
        return True
    # Withdrawing your own request needs no approver rights.
    return (
        op == "cancel"
        and action.requested_by_id is not None
        and (action.requested_by_id == user.pk)
    )
