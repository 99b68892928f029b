"""The closed loop: a later scan decides whether an action worked.

A succeeded rebuild (or a merged and built fix pull request) is decided by a scan
of its tag with a NEW digest (received after the dispatch, or the merge), or one
received after the build when the scanner names no digest, from a scanner that
reported its findings (a witness; a failed scan or another scanner proves
nothing): any covered finding still listed -> verification_failed (image marked
risky in Aqua, people notified); none open any more, i.e. every witness's newest
scan lacks them -> verified (and a risky mark we set in Aqua is lifted). No such
scan within VERIFY_AFTER_MINUTES -> Aqua is asked to re-scan, once; none within
VERIFY_GIVE_UP_MINUTES -> verification_failed.

Other kinds (re-scan, mark risky, notify) are verified by the first scan in
which none of their findings is present any more. An action still waiting for
approval whose findings all disappeared is superseded.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from findings.models import Scan
from findings.querysets import ACTIVE_STATUSES
from findings.seen import scan_finding_ids
from findings.status import CLOSABLE
from remediator.engine.models import (
    BUILDING_KINDS,
    OPEN_STATES,
    ActionKind,
    ActionState,
    FixPullRequest,
    RemediationAction,
)
from remediator.engine.rules.remediation import JOINABLE_STATES

from .actions import ActionNotAllowed, action_transition
from .aqua import image_rescan_request, image_risky_lift, image_risky_mark

S = ActionState
NO_SCAN_REASON = "no scan of the rebuilt image arrived"


def verify_scan(*, scan: Scan) -> list[RemediationAction]:
    """Decide the tag's open actions that this scan can decide: a failed scan or a late
    retry decides none."""
    if scan.superseded or scan.failed:
        return []
    touched = []
    actions = RemediationAction.objects.filter(tag_id=scan.tag_id, state__in=OPEN_STATES)
    for action in actions.select_related("repository", "tag").order_by("id"):
        if action.state == S.SUCCEEDED:
            decided = action_verify(action=action, scan=scan)
        elif action.state in JOINABLE_STATES:
            decided = _supersede_if_fixed(action=action, scan=scan)
        else:
            decided = None
        if decided is not None:
            touched.append(decided)
    return touched


def _built_since(action: RemediationAction):
    """When the new image could first exist: the dispatch of a rebuild, the merge of a
    fix pull request."""
    if action.kind == ActionKind.PULL_REQUEST:
        merged = FixPullRequest.objects.filter(action=action).values_list("merged_at", flat=True)
        return next(iter(merged), None) or action.dispatched_at
    return action.dispatched_at


def _decides(action: RemediationAction, scan: Scan) -> bool:
    if action.kind not in BUILDING_KINDS:
        return True
    if scan.image_id == action.image_id:
        if action.image.digest:
            return False  # the old image scanned again: not the rebuilt one
        # the scanner names no digest: only a scan after the build can speak for it
        return action.finished_at is not None and scan.received_at >= action.finished_at
    since = _built_since(action)
    return since is None or scan.received_at >= since


def action_verify(*, action: RemediationAction, scan: Scan) -> RemediationAction | None:
    """Verified or verification_failed by ``scan``; None when it cannot decide.

    Only evidence counts: ``scan`` decides only if its scanner has reported at least one
    covered finding (it is a witness). Any covered finding it still lists fails the
    rebuild; it is verified only when no covered finding is still open, i.e. every
    witness of every covered finding has a newer scan without it.
    """
    if scan.failed or not _decides(action, scan):
        return None
    covered = action.findings.all()
    if not covered.filter(witnesses__scanner_key=scan.scanner_key).exists():
        return None  # this scanner never saw these findings: it can prove nothing
    listed = set(scan_finding_ids(scan.pk))
    survivors = sorted(
        {vuln for pk, vuln in covered.values_list("pk", "vulnerability_id") if pk in listed}
    )
    if not survivors and covered.filter(status__in=CLOSABLE).exists():
        return None  # gone from this scanner's view; another witness has not looked yet
    if action.kind not in BUILDING_KINDS and survivors:
        return None  # still there: the action stays until they are gone
    try:
        if not survivors:
            done = action_transition(
                action_id=action.pk,
                to=S.VERIFIED,
                expect=(S.SUCCEEDED,),
                actor_label="system",
                reason=f"scan {scan.pk} of {scan.image} no longer has the covered findings",
                verified_by_scan=scan,
            )
            image_risky_lift(action=done, reason=f"verified fixed by scan {scan.pk}")
            return done
        cves = ", ".join(sorted(set(survivors))[:20])
        failed = action_transition(
            action_id=action.pk,
            to=S.VERIFICATION_FAILED,
            expect=(S.SUCCEEDED,),
            actor_label="system",
            reason=f"scan {scan.pk} of the rebuilt image still has {cves}",
            verified_by_scan=scan,
            error=f"still present after the rebuild: {cves}",
        )
    except ActionNotAllowed:
        return None  # decided meanwhile by another worker
    image_risky_mark(action=failed, reason=f"rebuild did not fix {cves}")
    return failed


def _supersede_if_fixed(*, action: RemediationAction, scan: Scan) -> RemediationAction | None:
    covered = action.findings.all()
    if not covered.exists() or covered.filter(status__in=ACTIVE_STATUSES).exists():
        return None
    try:
        return action_transition(
            action_id=action.pk,
            to=S.SUPERSEDED,
            expect=tuple(JOINABLE_STATES),
            actor_label="system",
            reason=f"every covered finding was already fixed by scan {scan.pk}",
        )
    except ActionNotAllowed:
        return None


def action_verify_latest(*, action_id: int) -> RemediationAction | None:
    """Right after success: the rebuilt image may have been scanned before we knew."""
    action = RemediationAction.objects.select_related("repository", "tag").get(pk=action_id)
    scan = action.tag.latest_scan
    if action.state != S.SUCCEEDED or scan is None:
        return None
    return action_verify(action=action, scan=scan)


def verify_overdue() -> int:
    """Succeeded rebuilds (and built fix pull requests) past their deadline: ask for a
    re-scan once, then give up."""
    now = timezone.now()
    handled = 0
    overdue = RemediationAction.objects.filter(
        kind__in=BUILDING_KINDS, state=S.SUCCEEDED, verify_deadline__lte=now
    ).select_related("repository", "tag")
    for action in overdue:
        handled += 1
        if action.verify_rescan_requested_at is None:
            _ask_for_rescan(action=action, now=now)
            continue
        try:
            action_transition(
                action_id=action.pk,
                to=S.VERIFICATION_FAILED,
                expect=(S.SUCCEEDED,),
                actor_label="system",
                reason=NO_SCAN_REASON,
                error=f"{NO_SCAN_REASON} within {settings.VERIFY_GIVE_UP_MINUTES} minutes",
            )
        except ActionNotAllowed:
            continue
    return handled


def _ask_for_rescan(*, action: RemediationAction, now) -> None:
    finished = action.finished_at or now
    deadline = max(finished + timedelta(minutes=settings.VERIFY_GIVE_UP_MINUTES), now)
    with transaction.atomic():
        claimed = RemediationAction.objects.filter(
            pk=action.pk, state=S.SUCCEEDED, verify_rescan_requested_at__isnull=True
        ).update(verify_rescan_requested_at=now, verify_deadline=deadline)
    if claimed:
        image_rescan_request(action=action)
