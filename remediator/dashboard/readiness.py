"""Which build target an action on a page will use, and what stops its dispatch: the
line every action and approval card shows (``partials/dispatch_target.html``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import reverse

from remediator.engine.models import ActionState, RemediationAction
from remediator.engine.readiness import Readiness, actions_readiness

STILL_TO_DISPATCH = (
    ActionState.PROPOSED,
    ActionState.AWAITING_APPROVAL,
    ActionState.APPROVED,
    ActionState.FAILED,
    ActionState.VERIFICATION_FAILED,
)
"""States in which approving or retrying would dispatch the action again."""


def setup_fix_url() -> str:
    """Where the go-live checklist says how to set up build targets."""
    return reverse("setup") + "#build-targets"


def with_readiness(actions: Iterable[RemediationAction]) -> dict[int, Readiness]:
    """Each action still to be dispatched gets ``.dispatch`` (its Readiness; None for the
    others), for a page of actions with ``repository`` and ``build_target`` selected."""
    actions = list(actions)
    pending = [a for a in actions if a.state in STILL_TO_DISPATCH]
    found = actions_readiness(pending) if pending else {}
    for action in actions:
        action.dispatch = found.get(action.pk)
    return found
