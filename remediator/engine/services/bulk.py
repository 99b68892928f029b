"""One decision about many findings at once (the findings list's checkboxes and the
API's ``POST /findings/bulk/``): accept the risk, dismiss as false positive, request a
rebuild or a fix pull request.

Each finding goes through the single-finding service (``risk``, ``gates``), so the same
permissions, states and four-eyes rules apply and each gets its own audit event, all
naming one ``batch``. Findings are decided one by one, each in its own transaction: one
that cannot be (decided already, unknown) is reported and the others go ahead.
Rebuilds and pull requests are requested once per tag, covering the tag's findings as a
single request does; each selected finding gets an audit event naming the action.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from findings.models import Finding, Tag
from findings.selectors.scope import visible
from remediator.core import permissions
from remediator.engine.audit import audit_record
from remediator.engine.vex.reissue import vex_reissue_batched

from .actions import ActionNotAllowed
from .gates import action_request_pull_request, action_request_rebuild
from .risk import finding_accept_risk, finding_mark_false_positive

BULK_MAX = 500
"""Most findings one bulk decision may name."""
ACCEPT, FALSE_POSITIVE, REBUILD, PULL_REQUEST = (
    "accept",
    "false_positive",
    "rebuild",
    "pull_request",
)
OPERATIONS = {
    ACCEPT: ("Accept risk", permissions.APPROVE_ACTION),
    FALSE_POSITIVE: ("False positive", permissions.APPROVE_ACTION),
    REBUILD: ("Request rebuild", permissions.REQUEST_ACTION),
    PULL_REQUEST: ("Request fix pull request", permissions.REQUEST_ACTION),
}
"""Operation -> (its label, the permission it needs: the single decision's)."""


@dataclass(frozen=True)
class BulkResult:
    """What became of one finding: done (``ok``) or why not (``code``, ``message``)."""

    finding_id: int
    ok: bool
    status: str = ""
    code: str = ""
    message: str = ""
    action_id: int | None = None


def _check(
    *, operation: str, finding_ids: list[int], user: Any, reason: str, until: datetime | None
) -> None:
    """ActionNotAllowed (``invalid`` or ``permission_denied``) for a request that cannot
    be carried out at all."""
    if operation not in OPERATIONS:
        raise ActionNotAllowed(
            f"unknown operation {operation!r}; one of {', '.join(OPERATIONS)}", code="invalid"
        )
    if not finding_ids:
        raise ActionNotAllowed("no findings given", code="invalid")
    if len(finding_ids) > BULK_MAX:
        raise ActionNotAllowed(f"at most {BULK_MAX} findings at once", code="invalid")
    label, permission = OPERATIONS[operation]
    if user is None or not user.is_authenticated or not user.has_perm(permission):
        raise ActionNotAllowed(
            f"{label.lower()} needs the permission {permission}", code="permission_denied"
        )
    if operation in (ACCEPT, FALSE_POSITIVE) and not reason.strip():
        raise ActionNotAllowed("a reason is required", code="incomplete")
    if operation == ACCEPT:
        if until is None:
            raise ActionNotAllowed("accepting a risk in bulk needs an end date", code="incomplete")
        if until <= timezone.now():
            raise ActionNotAllowed("the acceptance must end in the future", code="until_past")


def findings_decide_bulk(
    *,
    operation: str,
    finding_ids: list[int],
    user: Any,
    reason: str = "",
    until: datetime | None = None,
    justification: str = "",
) -> list[BulkResult]:
    """Carry out ``operation`` on each finding of ``finding_ids`` (in their order, each
    once); ActionNotAllowed when the request as a whole is refused."""
    finding_ids = list(dict.fromkeys(finding_ids))
    _check(operation=operation, finding_ids=finding_ids, user=user, reason=reason, until=until)
    batch = uuid.uuid4().hex[:12]
    mine = visible(Finding.objects.filter(pk__in=finding_ids), user)  # team-scoped access
    known = dict(mine.values_list("pk", "tag_id"))
    results = {
        pk: BulkResult(pk, ok=False, code="not_found", message="no such finding")
        for pk in finding_ids
        if pk not in known
    }
    if operation in (REBUILD, PULL_REQUEST):
        results |= _request_actions(operation, known, user=user, reason=reason, batch=batch)
    else:
        with vex_reissue_batched():  # one VEX issue for the whole batch
            results |= _decide_all(
                operation,
                known,
                user=user,
                reason=reason,
                until=until,
                batch=batch,
                justification=justification,
            )
    return [results[pk] for pk in finding_ids]


def _decide_all(
    operation: str,
    known: dict[int, int],
    *,
    user,
    reason: str,
    until,
    batch: str,
    justification: str,
) -> dict[int, BulkResult]:
    results: dict[int, BulkResult] = {}
    for pk in known:
        results[pk] = _decide_one(
            operation,
            pk,
            user=user,
            reason=reason,
            until=until,
            batch=batch,
            justification=justification,
        )
    return results


def _decide_one(
    operation: str, pk: int, *, user, reason: str, until, batch: str, justification: str = ""
) -> BulkResult:
    try:
        if operation == ACCEPT:
            finding = finding_accept_risk(
                finding_id=pk, user=user, reason=reason, until=until, batch=batch
            )
        else:
            finding = finding_mark_false_positive(
                finding_id=pk, user=user, reason=reason, batch=batch, justification=justification
            )
    except ActionNotAllowed as exc:
        return BulkResult(pk, ok=False, code=exc.code, message=str(exc))
    return BulkResult(pk, ok=True, status=finding.status)


def _request_actions(
    operation: str, known: dict[int, int], *, user, reason: str, batch: str
) -> dict[int, BulkResult]:
    """One request per tag of the findings; each finding the action covers is audited."""
    request = action_request_rebuild if operation == REBUILD else action_request_pull_request
    by_tag: dict[int, list[int]] = defaultdict(list)
    for pk, tag_id in known.items():
        by_tag[tag_id].append(pk)
    tags = Tag.objects.select_related("repository").in_bulk(list(by_tag))
    results: dict[int, BulkResult] = {}
    for tag_id, pks in by_tag.items():
        try:
            action = request(tag=tags[tag_id], user=user, reason=reason.strip())
        except ActionNotAllowed as exc:
            results |= {pk: BulkResult(pk, ok=False, code=exc.code, message=str(exc)) for pk in pks}
            continue
        covered = set(action.findings.filter(pk__in=pks).values_list("pk", flat=True))
        for pk in pks:
            if pk not in covered:
                results[pk] = BulkResult(
                    pk,
                    ok=False,
                    code="not_covered",
                    message=f"action #{action.pk} does not cover it: it is not open with a "
                    "fixed version",
                    action_id=action.pk,
                )
                continue
            audit_record(
                kind="finding",
                actor=user,
                obj=Finding(pk=pk),
                message=f"{OPERATIONS[operation][0].lower()}: action #{action.pk}",
                data={"batch": batch, "action_id": action.pk},
            )
            results[pk] = BulkResult(pk, ok=True, status=action.state, action_id=action.pk)
    return results
