"""Create an action for a tag, or join the open one: never two open of a kind per tag."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from findings.models import Tag
from remediator.engine.audit import audit_record
from remediator.engine.models import OPEN_STATES, ActionState, Policy, RemediationAction
from remediator.engine.rules.remediation import joinable

from . import queue
from .actions import action_transition, findings_mark_in_remediation

CREATED, JOINED, WAITING = "created", "joined", "waiting"


def open_action_for(*, tag_id: int, kind: str, lock: bool = False) -> RemediationAction | None:
    qs = RemediationAction.objects.filter(tag_id=tag_id, kind=kind, state__in=OPEN_STATES)
    if lock:
        qs = qs.select_for_update()
    return qs.order_by("id").first()


def action_propose(
    *,
    tag: Tag,
    kind: str,
    finding_ids: Iterable[int],
    requires_approval: bool,
    policy: Policy | None = None,
    build_target_id: int | None = None,
    requested_by: Any = None,
    actor: Any = None,
    actor_label: str = "",
    reason: str = "",
) -> tuple[RemediationAction, str]:
    """The tag's open action of ``kind`` with these findings added, or a new one.

    Returns (action, outcome): ``created``; ``joined`` (the open action took the
    findings, state proposed/awaiting_approval/approved); ``waiting`` (it is
    already dispatched or later: the findings wait for its verification scan).
    A new action is proposed, then moved to awaiting_approval, or straight to
    approved (and dispatched after commit) when no approval is required.
    """
    ids = sorted(set(finding_ids))
    with transaction.atomic():
        existing = open_action_for(tag_id=tag.pk, kind=kind, lock=True)
        if existing is None:
            try:
                with transaction.atomic():
                    action = RemediationAction.objects.create(
                        kind=kind,
                        state=ActionState.PROPOSED,
                        repository_id=tag.repository_id,
                        tag=tag,
                        image_id=tag.image_id,
                        policy=policy,
                        build_target_id=build_target_id,
                        requires_approval=requires_approval,
                        requested_by=requested_by,
                        reason=reason,
                    )
            except IntegrityError:  # another worker created it a moment ago
                existing = open_action_for(tag_id=tag.pk, kind=kind, lock=True)
                if existing is None:
                    raise
            else:
                action.findings.add(*ids)
                findings_mark_in_remediation(action=action)
                audit_record(
                    kind="transition",
                    action=action,
                    actor=actor,
                    actor_label=actor_label,
                    to_state=ActionState.PROPOSED,
                    message=reason or f"{kind} proposed for {tag}",
                    data={"findings": len(ids)},
                )
                to = ActionState.AWAITING_APPROVAL if requires_approval else ActionState.APPROVED
                why = "approval required" if requires_approval else "no approval required"
                action = action_transition(
                    action_id=action.pk, to=to, actor=actor, actor_label=actor_label, reason=why
                )
                return action, CREATED
        if not joinable(kind, existing.state):
            return existing, WAITING
        covered = set(existing.findings.filter(pk__in=ids).values_list("pk", flat=True))
        new = [i for i in ids if i not in covered]
        if new:
            existing.findings.add(*new)
            findings_mark_in_remediation(action=existing)
            audit_record(
                kind="transition",
                action=existing,
                actor=actor,
                actor_label=actor_label,
                from_state=existing.state,
                to_state=existing.state,
                message=f"{len(new)} more finding(s) joined this action",
                data={"findings": new[:100]},
            )
            if existing.state == ActionState.DISPATCHED:  # an open fix pull request
                queue.enqueue_pull_request_update(existing.pk)
        return existing, JOINED
