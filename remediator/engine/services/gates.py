"""What people do to actions: approve, reject, cancel, retry, request a rebuild.

Four eyes: whoever requested an action (a person, the owner of the policy
that requested it, or a person whose rebuild request joined it) can neither
approve nor reject it; rejecting your own
request is a cancel. The database enforces it too (Approval's
``approval_four_eyes`` constraint).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction

from findings.models import Finding, Tag
from findings.selectors.scope import is_visible
from remediator.core import permissions
from remediator.engine.audit import audit_record
from remediator.engine.models import (
    OPEN_STATES,
    ActionKind,
    ActionState,
    Approval,
    RemediationAction,
)
from remediator.engine.readiness import Readiness, action_readiness
from remediator.engine.selectors import action_requesters
from remediator.integrations.providers import PULL_HOSTS

from .actions import ActionNotAllowed, action_transition
from .dispatch import build_target_for
from .propose import action_propose, open_action_for

S = ActionState


def _require(user: Any, permission: str, doing: str) -> None:
    if user is None or not user.is_authenticated or not user.has_perm(permission):
        raise ActionNotAllowed(
            f"you may not {doing}: it needs the permission {permission} "
            '(the "Security approvers" group)',
            code="permission_denied",
        )


def _require_visible(tag: Tag, user: Any) -> None:
    """Team-scoped access: a tag of another team's image is not there for ``user``."""
    if not is_visible(Tag.objects.all(), tag.pk, user):
        raise Tag.DoesNotExist


def _locked(action_id: int) -> RemediationAction:
    return RemediationAction.objects.select_for_update().get(pk=action_id)


def dispatch_refusal(readiness: Readiness, *, doing: str) -> ActionNotAllowed:
    """The refusal of approving (or retrying) an action that cannot be dispatched."""
    return ActionNotAllowed(
        f"not {doing}: this {readiness.kind} cannot be dispatched: "
        + "; ".join(readiness.blockers)
        + f". To fix it, {readiness.what_to_configure} (go-live checklist: /setup/)",
        code="not_dispatchable",
    )


def _dispatch_check(action: RemediationAction, *, anyway: bool, reason: str) -> dict:
    """Refuse approving ``action`` when it cannot be dispatched; the audit data of an
    explicit "approve anyway" (only over secrets this process cannot read, with a reason)."""
    readiness = action_readiness(action)
    if readiness.ready:
        return {}
    if not anyway:
        raise dispatch_refusal(readiness, doing="approved")
    if not readiness.overridable:
        raise ActionNotAllowed(
            "approve anyway only passes secrets this process cannot read; "
            + "; ".join(readiness.blockers),
            code="not_dispatchable",
        )
    if not reason.strip():
        raise ActionNotAllowed("approving anyway needs a reason", code="reason_required")
    return {"approved_anyway": list(readiness.blockers)}


def _decide(
    *, action_id: int, user: Any, decision: str, reason: str, anyway: bool = False
) -> RemediationAction:
    verb = "approved" if decision == Approval.Decision.APPROVE else "rejected"
    with transaction.atomic():
        action = _locked(action_id)
        if action.state != S.AWAITING_APPROVAL:
            raise ActionNotAllowed(
                f"action is {action.state}; only awaiting_approval can be {verb}"
            )
        if user.pk in action_requesters(action):
            hint = "; to withdraw your request, cancel it" if verb == "rejected" else ""
            raise ActionNotAllowed(
                f"four eyes: you requested this action, someone else must decide it{hint}",
                code="four_eyes",
            )
        despite = {}
        if decision == Approval.Decision.APPROVE:
            despite = _dispatch_check(action, anyway=anyway, reason=reason)
        approval = Approval.objects.create(
            action=action,
            user=user,
            requested_by_id=action.requested_by_id,
            decision=decision,
            reason=reason,
        )
        anyway_note = (
            " anyway, despite: " + "; ".join(despite["approved_anyway"]) if despite else ""
        )
        audit_record(
            kind="approval",
            action=action,
            actor=user,
            obj=approval,
            message=f"{verb}{anyway_note}" + (f": {reason}" if reason else ""),
            data={"decision": decision, **despite},
        )
        to = S.APPROVED if decision == Approval.Decision.APPROVE else S.REJECTED
        return action_transition(
            action_id=action_id,
            to=to,
            expect=(S.AWAITING_APPROVAL,),
            actor=user,
            reason=reason or verb,
        )


def action_approve(
    *, action_id: int, user: Any, reason: str = "", approve_anyway: bool = False
) -> RemediationAction:
    """awaiting_approval -> approved by someone other than the requester; dispatch follows
    after commit. A second approval finds it approved and is refused. An action that
    cannot be dispatched (no enabled build target matches, its secrets are not set, Aqua
    is not configured) is refused (``not_dispatchable``), naming what to configure;
    ``approve_anyway`` with a reason passes secrets this process cannot read, audited."""
    _require(user, permissions.APPROVE_ACTION, "approve actions")
    return _decide(
        action_id=action_id,
        user=user,
        decision=Approval.Decision.APPROVE,
        reason=reason,
        anyway=approve_anyway,
    )


def action_reject(*, action_id: int, user: Any, reason: str) -> RemediationAction:
    """awaiting_approval -> rejected, with a reason, by someone other than the requester."""
    _require(user, permissions.APPROVE_ACTION, "reject actions")
    if not (reason or "").strip():
        raise ActionNotAllowed("a reason is required to reject an action", code="invalid")
    return _decide(
        action_id=action_id, user=user, decision=Approval.Decision.REJECT, reason=reason.strip()
    )


def action_cancel(*, action_id: int, user: Any, reason: str = "") -> RemediationAction:
    """Any open action -> cancelled, by its requester or an approver.

    A CI run already started is not stopped; Remediator just stops following it.
    """
    action = RemediationAction.objects.get(pk=action_id)
    own = user is not None and action.requested_by_id == getattr(user, "pk", None)
    if not own:
        _require(user, permissions.APPROVE_ACTION, "cancel an action someone else requested")
    if action.state in (S.DISPATCHED, S.RUNNING):
        reason = (reason + " " if reason else "") + "(the CI run itself is not stopped)"
    return action_transition(
        action_id=action_id,
        to=S.CANCELLED,
        expect=tuple(OPEN_STATES),
        actor=user,
        reason=reason or "cancelled",
    )


def action_retry(*, action_id: int, user: Any, reason: str = "") -> RemediationAction:
    """failed / verification_failed -> approved again (same action, same approval) and
    dispatched anew against the tag's current image. Needs the approver permission;
    refused while another open action of the same kind owns the tag."""
    _require(user, permissions.APPROVE_ACTION, "retry actions")
    with transaction.atomic():
        action = _locked(action_id)
        if action.state not in (S.FAILED, S.VERIFICATION_FAILED):
            raise ActionNotAllowed(
                f"action is {action.state}; only failed or verification_failed can be retried"
            )
        other = (
            RemediationAction.objects.filter(
                tag_id=action.tag_id, kind=action.kind, state__in=OPEN_STATES
            )
            .exclude(pk=action.pk)
            .first()
        )
        if other is not None:
            raise ActionNotAllowed(
                f"action {other.pk} ({other.state}) is already open for this tag; act on it"
            )
        readiness = action_readiness(action)
        if not readiness.ready:
            raise dispatch_refusal(readiness, doing="retried")
        tag = Tag.objects.get(pk=action.tag_id)
        return action_transition(
            action_id=action_id,
            to=S.APPROVED,
            actor=user,
            reason=f"retry requested (attempt {action.attempts + 1})"
            + (f": {reason.strip()}" if reason.strip() else ""),
            image=tag.image,
        )


GATES: dict[str, Callable[..., RemediationAction]] = {
    "approve": action_approve,
    "reject": action_reject,
    "cancel": action_cancel,
    "retry": action_retry,
}
"""What a person may do to an existing action, by name (the API's and the dashboard's)."""


def action_gate(
    *, gate: str, action_id: int, user: Any, reason: str = "", approve_anyway: bool = False
) -> RemediationAction:
    """Pass ``action_id`` through the named gate; ActionNotAllowed names any refusal."""
    if gate not in GATES:
        raise ActionNotAllowed(f"unknown operation {gate!r}", code="invalid")
    if not is_visible(RemediationAction.objects.all(), action_id, user):
        raise RemediationAction.DoesNotExist  # another team's, under team-scoped access
    if gate == "approve":
        return action_approve(
            action_id=action_id, user=user, reason=reason, approve_anyway=approve_anyway
        )
    return GATES[gate](action_id=action_id, user=user, reason=reason)


def action_request_rebuild(*, tag: Tag, user: Any, reason: str = "") -> RemediationAction:
    """A person asks for a rebuild of ``tag``: it covers the tag's open fixable findings
    and joins the open rebuild when there is one. Someone else approves it when
    MANUAL_REBUILD_REQUIRES_APPROVAL (default on)."""
    _require(user, permissions.REQUEST_ACTION, "request rebuilds")
    _require_visible(tag, user)
    findings = Finding.objects.filter(tag=tag, status=Finding.Status.OPEN, fixable=True)
    who = user.get_username()
    action, _outcome = action_propose(
        tag=tag,
        kind=ActionKind.REBUILD,
        finding_ids=findings.values_list("pk", flat=True),
        requires_approval=settings.MANUAL_REBUILD_REQUIRES_APPROVAL,
        requested_by=user,
        actor=user,
        reason=reason or f"rebuild requested by {who}",
    )
    return action


TAKEOVER_STATES = (S.PROPOSED, S.AWAITING_APPROVAL)
"""A rebuild not yet approved gives its findings to a fix pull request; one approved or
later has a CI run of its own on the way, and keeps them."""


def _pull_request_takeover(tag: Tag, finding_ids: list[int]) -> RemediationAction | None:
    """The tag's open rebuild covering some of ``finding_ids`` (locked), when it may give
    them up; ActionNotAllowed naming it when it is already under way."""
    rebuild = open_action_for(tag_id=tag.pk, kind=ActionKind.REBUILD, lock=True)
    if rebuild is None or not rebuild.findings.filter(pk__in=finding_ids).exists():
        return None
    if rebuild.state not in TAKEOVER_STATES:
        raise ActionNotAllowed(
            f"rebuild #{rebuild.pk} ({rebuild.state}) already covers these findings: wait for "
            "its verification scan, or cancel it, before opening a fix pull request",
            code="covered_by_rebuild",
        )
    return rebuild


def _take_over(
    rebuild: RemediationAction, pull: RemediationAction, finding_ids: list[int], user: Any
) -> int:
    """Move the findings both cover from ``rebuild`` to ``pull``, audited on both; a
    rebuild left with none is superseded by the pull request."""
    moved = list(rebuild.findings.filter(pk__in=finding_ids).values_list("pk", flat=True))
    if not moved:
        return 0
    rebuild.findings.remove(*moved)
    notes = [
        (rebuild, f"{len(moved)} finding(s) moved to fix pull request #{pull.pk}", "to", pull),
        (pull, f"took over {len(moved)} finding(s) from rebuild #{rebuild.pk}", "from", rebuild),
    ]
    for action, message, direction, other in notes:
        audit_record(
            kind="transition",
            action=action,
            actor=user,
            from_state=action.state,
            to_state=action.state,
            message=message,
            data={"findings": moved[:100], direction: other.pk},
        )
    if not rebuild.findings.exists():
        action_transition(
            action_id=rebuild.pk,
            to=S.SUPERSEDED,
            expect=TAKEOVER_STATES,
            actor=user,
            reason=f"superseded by fix pull request #{pull.pk}: it took over every finding",
        )
    return len(moved)


def action_request_pull_request(*, tag: Tag, user: Any, reason: str = "") -> RemediationAction:
    """A person asks for a fix pull request of ``tag``'s Dockerfile ("Open fix PR"): it
    covers the tag's unresolved fixable findings and joins the open one; someone else
    approves it, as a rebuild (MANUAL_REBUILD_REQUIRES_APPROVAL). Findings an open rebuild
    covers move to it when that rebuild is not approved yet (superseded once it covers
    none, audited on both; ``took_over`` on the result: (rebuild id, findings moved)),
    and the request is refused naming the rebuild (``covered_by_rebuild``) when it is
    under way. Refused (``no_findings``) when the tag has no such finding and no open fix
    pull request: an action that covers nothing is never created."""
    _require(user, permissions.REQUEST_ACTION, "request fix pull requests")
    _require_visible(tag, user)
    probe = RemediationAction(repository=tag.repository, tag=tag)
    target = build_target_for(probe)
    if target is None or target.provider not in PULL_HOSTS:
        raise ActionNotAllowed(
            f"no enabled GitHub or GitLab build target matches {tag.repository}: "
            "a fix pull request needs one",
            code="no_build_target",
        )
    unresolved = (Finding.Status.OPEN, Finding.Status.IN_REMEDIATION)
    ids = list(
        Finding.objects.filter(tag=tag, status__in=unresolved, fixable=True).values_list(
            "pk", flat=True
        )
    )
    with transaction.atomic():
        if not ids and open_action_for(tag_id=tag.pk, kind=ActionKind.PULL_REQUEST) is None:
            raise ActionNotAllowed(
                f"{tag.repository}:{tag.name or 'latest'} has no unresolved finding with a "
                "fixed version: a fix pull request would have nothing to change",
                code="no_findings",
            )
        rebuild = _pull_request_takeover(tag, ids)
        action, _outcome = action_propose(
            tag=tag,
            kind=ActionKind.PULL_REQUEST,
            finding_ids=ids,
            requires_approval=settings.MANUAL_REBUILD_REQUIRES_APPROVAL,
            build_target_id=target.pk,
            requested_by=user,
            actor=user,
            reason=reason or f"fix pull request requested by {user.get_username()}",
        )
        action.took_over = None
        if rebuild is not None:
            moved = _take_over(rebuild, action, ids, user)
            action.took_over = (rebuild.pk, moved) if moved else None
    return action
