"""Thin Celery tasks: fetch by id, call the service, retry transient errors.

Every task has a time limit (settings: CELERY_TASK_SOFT_TIME_LIMIT and the per-task
CELERY_TASK_ANNOTATIONS). Where stopping halfway matters, the task catches Celery's
SoftTimeLimitExceeded and records why: a dispatch fails its action with the reason, a
poll or a pull-request update is left to the next run, a feed refresh is recorded as
refused. Transactions interrupted by it roll back.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from remediator.core.errors import ProviderError
from remediator.core.time_limits import task_soft_limit

from .checklist.pings import setup_pings_run
from .models import BUILDING_KINDS, ActionState, RemediationAction
from .notifications import action_notify, break_glass_notify
from .ownership import owners_refresh, repositories_of
from .services import (
    action_dispatch,
    action_fail,
    action_poll,
    actions_dispatch_lost,
    pull_request_update,
    scan_evaluate,
    verify_overdue,
)
from .services.deadlines import policy_due_dates_refresh, team_due_dates_refresh
from .services.dry_run_store import policy_dry_run_refresh_queued
from .services.retry import action_retry_delay
from .services.risk import accepted_risks_expire
from .services.sla_breach import sla_breaches_notify
from .services.threat_intel import threat_intel_refresh
from .vex.reissue import vex_reissue_all, vex_reissue_pending

log = logging.getLogger(__name__)


def _stopped(task, what: str, setting: str) -> str:
    """What a task that hit its soft time limit records."""
    return f"{what} stopped at its time limit ({task_soft_limit(task):g} s, {setting})"


@shared_task(name="remediator.scan_evaluate")
def scan_evaluate_task(scan_id: int) -> int:
    return len(scan_evaluate(scan_id=scan_id))


@shared_task(name="remediator.owners_refresh")
def owners_refresh_task(repository_ids: list[int] | None = None) -> int:
    """Apply the ownership rules to these repositories (all for None): how many moved."""
    return owners_refresh(repositories_of(repository_ids))


@shared_task(name="remediator.action_dispatch", bind=True, max_retries=None)
def action_dispatch_task(self, action_id: int) -> str:
    """Carry out an approved action; a transient error (a rate limit included) retries
    the task later, the worker is never held waiting."""
    try:
        return action_dispatch(action_id=action_id).state
    except RemediationAction.DoesNotExist:
        return "missing"
    except SoftTimeLimitExceeded:
        # CI may or may not have been asked: fail visibly (a person can retry it) rather
        # than hold a worker for another ACTION_TIME_LIMIT.
        action_fail(action_id=action_id, error=_stopped(self, "dispatch", "ACTION_TIME_LIMIT"))
        return "failed"
    except ProviderError as exc:  # transient: permanent ones already failed the action
        retries = self.request.retries
        countdown = action_retry_delay(
            action_id=action_id, error=exc, retries=retries, operation="dispatch"
        )
        if countdown is None:
            action_fail(action_id=action_id, error=f"gave up after {retries} retries: {exc}")
            return "failed"
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="remediator.action_pull_request_update", bind=True, max_retries=None)
def action_pull_request_update_task(self, action_id: int) -> str:
    """Findings joined an open fix pull request: push them to its branch."""
    try:
        return pull_request_update(action_id=action_id).state
    except RemediationAction.DoesNotExist:
        return "missing"
    except SoftTimeLimitExceeded:
        problem = _stopped(self, "pull request update", "ACTION_TIME_LIMIT")
        log.warning("action %s: fix pull request not updated: %s", action_id, problem)
        return "not_updated"
    except ProviderError as exc:
        countdown = None
        if not exc.permanent:
            countdown = action_retry_delay(
                action_id=action_id,
                error=exc,
                retries=self.request.retries,
                operation="update the fix pull request",
            )
        if countdown is None:
            log.warning("action %s: fix pull request not updated: %s", action_id, exc)
            return "not_updated"
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="remediator.action_poll", bind=True)
def action_poll_task(self, action_id: int) -> str:
    try:
        return action_poll(action_id=action_id).state
    except RemediationAction.DoesNotExist:
        return "missing"
    except SoftTimeLimitExceeded:  # beat polls again; ACTION_RUN_TIMEOUT_MINUTES ends it
        problem = _stopped(self, "poll", "TASK_SOFT_TIME_LIMIT")
        log.warning("action %s: %s", action_id, problem)
        return "time_limit"


@shared_task(name="remediator.actions_poll")
def actions_poll_task() -> int:
    """Beat: poll every dispatched/running rebuild (Jenkins forgets queue items in minutes)
    and fix pull request, and send again the dispatch of approved actions it never reached
    (ACTION_DISPATCH_LOST_AFTER)."""
    ids = list(
        RemediationAction.objects.filter(
            kind__in=BUILDING_KINDS, state__in=(ActionState.DISPATCHED, ActionState.RUNNING)
        ).values_list("pk", flat=True)
    )
    for action_id in ids:
        action_poll_task.delay(action_id)
    for action_id in actions_dispatch_lost(older_than=settings.ACTION_DISPATCH_LOST_AFTER):
        log.warning("action %s: approved but never dispatched; dispatching it now", action_id)
        action_dispatch_task.delay(action_id)
    return len(ids)


@shared_task(name="remediator.actions_verify_overdue")
def actions_verify_overdue_task() -> int:
    """Beat: rebuilds that succeeded but whose rebuilt image was never scanned."""
    return verify_overdue()


@shared_task(name="remediator.action_notify")
def action_notify_task(action_id: int, event: str) -> list[str]:
    try:
        return action_notify(action_id=action_id, event=event)
    except RemediationAction.DoesNotExist:
        return []


@shared_task(name="remediator.admission_break_glass_notify")  # limits: CELERY_TASK_ANNOTATIONS
def admission_break_glass_notify_task(notice: dict) -> list[str]:
    """A break-glass annotation admitted a pod: tell the security team."""
    return break_glass_notify(notice)


@shared_task(name="remediator.accepted_risks_expire")
def accepted_risks_expire_task() -> int:
    return accepted_risks_expire()


@shared_task(name="remediator.vex_reissue", bind=True)  # limits: CELERY_TASK_ANNOTATIONS
def vex_reissue_task(self) -> int:
    """Beat (VEX_REISSUE_INTERVAL): issue the VEX documents of the digests scans marked.
    Stopped at its time limit, the next run goes on: each repository's documents are
    committed as they are issued, and its marks cleared only then."""
    try:
        return vex_reissue_pending()
    except SoftTimeLimitExceeded:
        log.warning(_stopped(self, "VEX re-issue", "VEX_REISSUE_TIME_LIMIT"))
        return -1


@shared_task(name="remediator.vex_reissue_all", bind=True)  # limits: CELERY_TASK_ANNOTATIONS
def vex_reissue_all_task(self) -> int:
    """Beat, daily: issue again every repository with decisions or documents (whatever a
    lost mark or a failed issue left stale)."""
    try:
        return vex_reissue_all()
    except SoftTimeLimitExceeded:
        log.warning(_stopped(self, "VEX re-issue of every repository", "VEX_REISSUE_TIME_LIMIT"))
        return -1


@shared_task(name="remediator.policy_dry_run_refresh", bind=True)
def policy_dry_run_refresh_task(self) -> float:
    """Beat, the Policies page's button, policy changes: store a fresh dry run. Stopped at
    its time limit, the page keeps the previous one (marked stale when policies changed)."""
    try:
        return policy_dry_run_refresh_queued().seconds
    except SoftTimeLimitExceeded:
        log.warning(_stopped(self, "policy dry run", "POLICY_DRY_RUN_TIME_LIMIT"))
        return -1.0


@shared_task(name="remediator.threat_intel_refresh")
def threat_intel_refresh_task() -> list[dict]:
    """Beat (daily, when EPSS_URL or KEV_URL is set): import the newest EPSS and KEV data.
    A refused feed is recorded (audit, metric, the feed's status) and left as it was."""
    return threat_intel_refresh().as_dicts()


@shared_task(name="remediator.setup_pings")  # limits: CELERY_TASK_ANNOTATIONS
def setup_pings_task() -> int:
    """The go-live checklist's reachability check of build targets and Aqua."""
    return len(setup_pings_run().targets)


@shared_task(name="remediator.sla_breaches_notify")  # limits: CELERY_TASK_ANNOTATIONS
def sla_breaches_notify_task() -> int:
    """Beat: tell owning teams, once per finding, about findings past their deadline."""
    return sla_breaches_notify()


@shared_task(name="remediator.due_dates_refresh")  # limits: CELERY_TASK_ANNOTATIONS
def due_dates_refresh_task(policy_id: int | None = None, team_id: int | None = None) -> int:
    """An SLA policy, or the policy a team is held to, changed: its open findings'
    deadlines again."""
    if policy_id is not None:
        return policy_due_dates_refresh(policy_id=policy_id)
    return team_due_dates_refresh(team_id=team_id) if team_id is not None else 0
