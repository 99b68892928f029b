"""Who asked for an action (four eyes): its requester and every person whose own
request created it or joined it. One rule for the services that refuse a decision
and for the pages that disable the buttons."""

from __future__ import annotations

from collections.abc import Iterable

from remediator.engine.models import ActionState, AuditEvent, RemediationAction

# A person's request writes a transition event into one of these states: creating an
# action (proposed, then awaiting_approval) or joining it (awaiting_approval -> itself).
REQUESTING_STATES = (ActionState.PROPOSED, ActionState.AWAITING_APPROVAL)


def actions_requesters(actions: Iterable[RemediationAction]) -> dict[int, set[int]]:
    """User ids that asked for each action, keyed by action id: one query for them all."""
    actions = list(actions)
    found: dict[int, set[int]] = {a.pk: set() for a in actions}
    for action in actions:
        if action.requested_by_id is not None:
            found[action.pk].add(action.requested_by_id)
    if not found:
        return found
    pairs = (
        AuditEvent.objects.filter(
            action_id__in=list(found),
            kind=AuditEvent.Kind.TRANSITION,
            to_state__in=REQUESTING_STATES,
            actor_id__isnull=False,
        )
        .values_list("action_id", "actor_id")
        .distinct()
    )
    for action_id, actor_id in pairs:
        found[action_id].add(actor_id)
    return found


def action_requesters(action: RemediationAction) -> set[int]:
    """User ids that asked for ``action`` (may neither approve nor reject it)."""
    return actions_requesters([action])[action.pk]
