"""Which buttons an action page shows, and why a disabled one is disabled.

Display only: the services decide (and refuse with ActionNotAllowed); the
POST views also check the permission before calling them.
"""

from __future__ import annotations

from dataclasses import dataclass

from remediator.core import permissions
from remediator.engine.models import ActionState, RemediationAction
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


def _decision_blocker(action: RemediationAction, user, requesters: set[int] | None) -> str:
    if not user.has_perm(permissions.APPROVE_ACTION):
        return "Only Security approvers can approve or reject."
    if requesters is None:
        requesters = action_requesters(action)
    if user.pk in requesters:
        return "You asked for this action; someone else must approve it (four eyes)."
    return ""


def approval_buttons(
    action: RemediationAction, user, requesters: set[int] | None = None
) -> list[Button]:
    """Approve and reject. ``requesters``: the action's (from ``actions_requesters``
    for a whole page); looked up when not given. The same rule as the service's."""
    blocker = _decision_blocker(action, user, requesters)
    return [
        Button(
            "approve",
            "Approve & rebuild" if action.kind == "rebuild" else "Approve",
            not blocker,
            blocker,
            style="primary",
        ),
        Button("reject", "Reject", not blocker, blocker, needs_reason=True, style="danger"),
    ]


def action_buttons(action: RemediationAction, user) -> list[Button]:
    buttons: list[Button] = []
    if action.state == ActionState.AWAITING_APPROVAL:
        buttons += approval_buttons(action, user)
    may = user.has_perm(permissions.APPROVE_ACTION)
    denied = "" if may else "Only Security approvers can change actions."
    if action.state in RETRYABLE:
        buttons.append(Button("retry", "Retry", may, denied, style="primary"))
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
