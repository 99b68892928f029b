"""Carry out approved actions: trigger CI, ask Aqua, notify; follow CI runs to the end."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from remediator.core.errors import ProviderError
from remediator.engine.audit import audit_record
from remediator.engine.models import (
    BUILDING_KINDS,
    ActionKind,
    ActionState,
    AuditEvent,
    BuildTarget,
    RemediationAction,
)
from remediator.engine.notifications import action_notify
from remediator.engine.target_checks import target_of_action, targets_enabled
from remediator.integrations.aqua.client import AquaClient, AquaImage
from remediator.integrations.ci import CIProvider, RunStatus, TriggerRequest
from remediator.integrations.links import web_link
from remediator.integrations.providers import provider_for

from .actions import ActionNotAllowed, action_transition
from .aqua import image_risky_mark
from .pull_request import pull_request_follow, pull_request_push
from .verify import action_verify_latest

log = logging.getLogger(__name__)
S = ActionState
FIND_RUN_SKEW = timedelta(seconds=60)
"""Look for an earlier run from this long before the dispatch was claimed (clock skew
between us and the CI system); a run of an earlier dispatch (before a retry) is older."""
RUN_TO_STATE = {
    "queued": S.DISPATCHED,
    "running": S.RUNNING,
    "succeeded": S.SUCCEEDED,
    "failed": S.FAILED,
    "cancelled": S.FAILED,
}


def build_target_for(action: RemediationAction) -> BuildTarget | None:
    """The action's own target, else the first enabled one whose patterns match."""
    if action.build_target_id and action.build_target.enabled:
        return action.build_target
    own = action.build_target if action.build_target_id else None
    return target_of_action(own, str(action.repository), targets_enabled)


def trigger_request(action: RemediationAction) -> TriggerRequest:
    image = str(action.repository)
    if action.tag.name:
        image += f":{action.tag.name}"
    if action.image.digest:
        image += f"@{action.image.digest}"
    rows = action.findings.order_by("vulnerability_id", "package").values_list(
        "vulnerability_id", "package", "fixed_version"
    )
    packages: dict[str, str] = {}
    for _vuln, package, fixed in rows:
        first = fixed.split(",")[0].strip()
        if first:
            packages.setdefault(package, first)
    return TriggerRequest(
        correlation_id=str(action.correlation_id),
        image=image,
        digest=action.image.digest,
        vulnerability_ids=tuple(sorted({row[0] for row in rows})),
        packages=tuple(sorted(packages.items())),
        details_url=f"{settings.BASE_URL}/api/v1/actions/{action.pk}/",
        dispatch_number=max(
            1,
            AuditEvent.objects.filter(
                action=action, kind=AuditEvent.Kind.TRANSITION, to_state=S.DISPATCHED
            ).count(),
        ),
    )


def action_fail(*, action_id: int, error: str) -> RemediationAction | None:
    """failed (from approved, dispatched or running), then mark the image risky."""
    try:
        action = action_transition(
            action_id=action_id,
            to=S.FAILED,
            expect=(S.APPROVED, S.DISPATCHED, S.RUNNING),
            actor_label="system",
            reason=error[:1000],
            error=error[:4000],
        )
    except ActionNotAllowed:
        return None
    if action.kind == ActionKind.REBUILD:
        image_risky_mark(action=action, reason=f"rebuild failed: {error[:200]}")
    return action


def _claim(action: RemediationAction) -> tuple[RemediationAction | None, bool]:
    """approved -> dispatched once; a retry of an undelivered trigger resumes it.
    Returns (the action, or None when there is nothing to do; whether it resumes)."""
    if action.state == S.APPROVED:
        try:
            claimed = action_transition(
                action_id=action.pk,
                to=S.DISPATCHED,
                expect=(S.APPROVED,),
                actor_label="system",
                reason="dispatching",
                attempts=action.attempts + 1,
                build_target=build_target_for(action),
            )
        except ActionNotAllowed:
            return None, False
        return claimed, False
    undelivered = not action.external_id and not action.provider_state
    if action.state == S.DISPATCHED and undelivered:
        RemediationAction.objects.filter(pk=action.pk).update(attempts=F("attempts") + 1)
        return action, True
    return None, False


def actions_dispatch_lost(*, older_than: float) -> list[int]:
    """Approved actions unchanged for ``older_than`` seconds: their dispatch never reached
    a worker (the broker refused or hung when they were approved). A dispatch claims the
    action within seconds of its approval, so one still approved after minutes is lost;
    sending it again is safe, as only one dispatch can claim it."""
    since = timezone.now() - timedelta(seconds=older_than)
    lost = RemediationAction.objects.filter(state=S.APPROVED, updated_at__lt=since)
    return list(lost.order_by("pk").values_list("pk", flat=True)[:500])


def action_dispatch(*, action_id: int) -> RemediationAction:
    """Carry out an approved action. A transient ProviderError propagates (retry the task);
    a permanent one fails the action."""
    action = RemediationAction.objects.select_related("repository", "tag", "image").get(
        pk=action_id
    )
    claimed, resumed = _claim(action)
    if claimed is None:
        return action
    action = RemediationAction.objects.select_related(
        "repository", "tag", "image", "build_target"
    ).get(pk=action_id)
    try:
        if action.kind == ActionKind.REBUILD:
            return _rebuild(action, resumed=resumed)
        if action.kind == ActionKind.PULL_REQUEST:
            return pull_request_push(action=action)
        return _aqua_or_notify(action)
    except ProviderError as exc:
        if not exc.permanent:
            raise
        return action_fail(action_id=action_id, error=str(exc)) or action


def _rebuild(action: RemediationAction, *, resumed: bool) -> RemediationAction:
    target = action.build_target
    if target is None:
        raise ProviderError(f"no enabled build target matches {action.repository}", permanent=True)
    provider = provider_for(target)
    request = trigger_request(action)
    if resumed:  # an earlier attempt may have triggered CI before its worker died
        found = _earlier_run(action, target, provider, request)
        if found is not None:
            return action_run_update(action_id=action.pk, status=found)
    try:
        status = provider.trigger(request)
    except ProviderError as exc:
        _audit_call(action, target, "trigger", f"failed: {exc}")
        raise
    _audit_call(action, target, "trigger", f"run {status.external_id or '?'} {status.state}")
    return action_run_update(action_id=action.pk, status=status)


def _earlier_run(
    action: RemediationAction, target: BuildTarget, provider: CIProvider, request: TriggerRequest
) -> RunStatus | None:
    """The run an earlier trigger of this dispatch started, found by correlation id."""
    since = (action.dispatched_at or action.updated_at) - FIND_RUN_SKEW
    try:
        found = provider.find_run(request, since)
    except ProviderError as exc:
        _audit_call(action, target, "find_run", f"failed: {exc}")
        raise
    if found is not None:
        _audit_call(
            action, target, "find_run",
            f"run {found.external_id or '?'} already started with this correlation id: "
            "not triggered again",
        )  # fmt: skip
    return found


def _audit_call(action: RemediationAction, target: BuildTarget, operation: str, outcome: str):
    """The action's own record of a CI call (the HTTP calls are audited by the client)."""
    audit_record(
        kind="provider_call",
        action=action,
        actor_label=f"provider:{target.provider}",
        message=f"{operation} on build target {target.name}: {outcome}"[:1000],
        data={"provider": target.provider, "target": target.name, "operation": operation},
    )


def _aqua_or_notify(action: RemediationAction) -> RemediationAction:
    repository = action.repository
    tag = action.tag.name or "latest"
    if action.kind in (ActionKind.RESCAN, ActionKind.MARK_RISKY) and not AquaClient.configured():
        raise ProviderError("Aqua is not configured (AQUA_URL)", permanent=True)
    changes: dict = {}
    if action.kind == ActionKind.RESCAN:
        AquaClient().rescan(repository.registry, repository.name, tag)
        detail = "Aqua asked to re-scan"
    elif action.kind == ActionKind.MARK_RISKY:
        image = AquaImage.of(repository.registry, repository.name, tag)
        AquaClient().disallow([image], comment=f"Remediator action {action.pk}: {action.reason}")
        changes["risky_marked"] = True
        detail = "image disallowed in Aqua"
    else:
        sent = action_notify(action_id=action.pk, event="findings")
        detail = f"notified: {', '.join(sent) or 'no channel configured'}"
    return action_transition(
        action_id=action.pk,
        to=S.SUCCEEDED,
        expect=(S.DISPATCHED,),
        actor_label="system",
        reason=detail,
        **changes,
    )


def action_run_update(*, action_id: int, status: RunStatus) -> RemediationAction:
    """Record what the CI provider says and move the action accordingly."""
    action = RemediationAction.objects.get(pk=action_id)
    changes = {
        "provider_state": status.provider_state or action.provider_state,
        "external_id": status.external_id or action.external_id,
        "external_url": web_link(status.url) or action.external_url,
    }
    to = RUN_TO_STATE.get(status.state, S.RUNNING)
    if action.kind == ActionKind.PULL_REQUEST and to == S.DISPATCHED:
        to = S.RUNNING  # dispatched is the open PR; a queued build of its merge is running
    if to == action.state:
        RemediationAction.objects.filter(pk=action_id, state=action.state).update(**changes)
        action.refresh_from_db()
        return action
    if to == S.FAILED:
        RemediationAction.objects.filter(pk=action_id).update(**changes)
        detail = status.detail or status.state
        return action_fail(action_id=action_id, error=f"CI run {status.state}: {detail}") or action
    try:
        action = action_transition(
            action_id=action_id,
            to=to,
            actor_label=f"provider:{action.build_target.provider if action.build_target else ''}",
            reason=f"CI run {status.state}" + (f" ({status.detail})" if status.detail else ""),
            **changes,
        )
    except ActionNotAllowed as exc:  # cancelled meanwhile, or another poll got there first
        log.info("action %s: %r", action_id, str(exc))
        return RemediationAction.objects.get(pk=action_id)
    if to == S.SUCCEEDED:
        return action_verify_latest(action_id=action_id) or action
    return action


def action_poll(*, action_id: int) -> RemediationAction:
    """Ask the CI provider where a dispatched/running rebuild is (or the host where a fix
    pull request is)."""
    action = RemediationAction.objects.select_related("build_target").get(pk=action_id)
    if action.state not in (S.DISPATCHED, S.RUNNING) or action.kind not in BUILDING_KINDS:
        return action
    if action.kind == ActionKind.PULL_REQUEST:
        return _poll_pull_request(action)
    deadline = settings.ACTION_RUN_TIMEOUT_MINUTES
    started = action.dispatched_at or action.updated_at
    if started is not None and timezone.now() - started > timedelta(minutes=deadline):
        error = f"no result from the CI run within {deadline} minutes (ACTION_RUN_TIMEOUT_MINUTES)"
        return action_fail(action_id=action_id, error=error) or action
    if not action.provider_state and not action.external_id:
        return action  # the trigger has not been delivered yet: the dispatch task owns it
    if action.build_target is None:
        return action_fail(action_id=action_id, error="its build target was deleted") or action
    try:
        status = provider_for(action.build_target).status(action.provider_state)
    except ProviderError as exc:
        _audit_call(action, action.build_target, "status", f"failed: {exc}")
        if not exc.permanent:
            log.info("action %s: poll failed, will poll again: %r", action_id, str(exc))
            return action
        return action_fail(action_id=action_id, error=f"cannot follow the CI run: {exc}") or action
    return action_run_update(action_id=action_id, status=status)


def _poll_pull_request(action: RemediationAction) -> RemediationAction:
    """A fix PR is followed without the run deadline until it is merged (people review it)."""
    if action.build_target is None:
        return action_fail(action_id=action.pk, error="its build target was deleted") or action
    try:
        status, error = pull_request_follow(action=action)
    except ProviderError as exc:
        _audit_call(action, action.build_target, "pull request status", f"failed: {exc}")
        if not exc.permanent:
            log.info("action %s: poll failed, will poll again: %r", action.pk, str(exc))
            return action
        error = f"cannot follow the pull request: {exc}"
        status = None
    if error:
        return action_fail(action_id=action.pk, error=error) or action
    if status is None:
        return RemediationAction.objects.get(pk=action.pk)
    return action_run_update(action_id=action.pk, status=status)
