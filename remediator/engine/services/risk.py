"""People's decisions about single findings: accept the risk (until a date), dismiss
as a false positive (not affected, with an OpenVEX justification or none), put under
investigation, or reopen. Accepted risks are acknowledged in Aqua when it is
configured, and reopen by themselves when their acceptance expires. Accepting pauses or
exempts the finding's deadline, by its SLA policy (``sla_clock``). Every decision issues
the finding's VEX documents again once committed (``remediator.engine.vex``)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from findings.models import Finding
from findings.selectors.scope import is_visible
from findings.status import (
    StatusNotAllowed,
    finding_acceptance_end,
    finding_decide,
    finding_investigate,
    findings_acceptance_expired,
)
from remediator.core import permissions
from remediator.core.errors import ProviderError
from remediator.engine.audit import audit_record
from remediator.engine.vex.reissue import vex_reissue_after_commit
from remediator.integrations.aqua.client import AquaClient, AquaIssue

from .actions import ActionNotAllowed
from .sla_clock import finding_clock_resume, finding_clock_stop

log = logging.getLogger(__name__)


def _may_decide(*, finding_id: int, user) -> None:
    if not user.has_perm(permissions.APPROVE_ACTION):
        raise ActionNotAllowed(
            "deciding about findings needs the permission approve_action (Security approvers)",
            code="permission_denied",
        )
    if not is_visible(Finding.objects.all(), finding_id, user):
        raise Finding.DoesNotExist  # another team's, under team-scoped access


def _decide(
    *,
    finding_id: int,
    user,
    to: str,
    reason: str,
    until: datetime | None,
    batch: str = "",
    justification: str = "",
) -> Finding:
    _may_decide(finding_id=finding_id, user=user)
    try:
        with transaction.atomic():
            finding, before = finding_decide(
                finding_id=finding_id,
                to=to,
                reason=reason,
                until=until,
                justification=justification,
            )
            if to == Finding.Status.ACCEPTED:
                finding_clock_stop(finding_id=finding_id, now=timezone.now())
            elif before == Finding.Status.ACCEPTED:
                finding_clock_resume(finding_id=finding_id, now=timezone.now())
            audit_record(
                kind="finding",
                actor=user,
                obj=finding,
                from_state=before,
                to_state=to,
                message=reason.strip() or f"{before} -> {to}",
                data={"accepted_until": until.isoformat() if until else None}
                | ({"batch": batch} if batch else {})
                | ({"justification": justification} if justification else {}),
            )
            vex_reissue_after_commit([finding_id])
    except StatusNotAllowed as exc:
        raise ActionNotAllowed(str(exc), code=exc.code) from exc
    return finding


def finding_accept_risk(
    *, finding_id: int, user, reason: str, until: datetime | None = None, batch: str = ""
) -> Finding:
    """Accept an open finding's risk (optionally until a date) and tell Aqua. ``batch``
    names the bulk decision it is part of, in its audit event."""
    finding = _decide(
        finding_id=finding_id,
        user=user,
        to=Finding.Status.ACCEPTED,
        reason=reason,
        until=until,
        batch=batch,
    )
    _acknowledge_in_aqua(finding, reason=reason, until=until)
    return finding


def finding_mark_false_positive(
    *, finding_id: int, user, reason: str, batch: str = "", justification: str = ""
) -> Finding:
    """Not affected: a false positive, with one of OpenVEX's justifications (or none:
    then its VEX statement carries the reason as the impact statement)."""
    return _decide(
        finding_id=finding_id,
        user=user,
        to=Finding.Status.FALSE_POSITIVE,
        reason=reason,
        until=None,
        batch=batch,
        justification=justification,
    )


def finding_investigate_start(*, finding_id: int, user, reason: str) -> Finding:
    """Put an open finding under investigation (it stays open)."""
    return _investigate(finding_id=finding_id, user=user, reason=reason, stop=False)


def finding_investigate_stop(*, finding_id: int, user, reason: str = "") -> Finding:
    """End an open finding's investigation without deciding."""
    return _investigate(finding_id=finding_id, user=user, reason=reason, stop=True)


def _investigate(*, finding_id: int, user, reason: str, stop: bool) -> Finding:
    _may_decide(finding_id=finding_id, user=user)
    try:
        with transaction.atomic():
            finding = finding_investigate(finding_id=finding_id, reason=reason, stop=stop)
            audit_record(
                kind="finding",
                actor=user,
                obj=finding,
                from_state="investigating" if stop else Finding.Status.OPEN,
                to_state=Finding.Status.OPEN if stop else "investigating",
                message=reason.strip()
                or ("investigation stopped" if stop else "under investigation"),
            )
            vex_reissue_after_commit([finding_id])
    except StatusNotAllowed as exc:
        raise ActionNotAllowed(str(exc), code=exc.code) from exc
    return finding


def finding_reopen(*, finding_id: int, user, reason: str = "") -> Finding:
    """Undo an acceptance or a false-positive decision."""
    return _decide(
        finding_id=finding_id, user=user, to=Finding.Status.OPEN, reason=reason, until=None
    )


def accepted_risks_expire(*, now: datetime | None = None) -> int:
    """Reopen accepted findings whose acceptance has ended; returns how many."""
    now = now or timezone.now()
    expired = findings_acceptance_expired(now=now)
    for pk in expired:
        with transaction.atomic():
            if finding_acceptance_end(finding_id=pk, now=now):
                finding_clock_resume(finding_id=pk, now=now)
                audit_record(
                    kind="finding",
                    actor_label="system",
                    obj=Finding(pk=pk),
                    from_state=Finding.Status.ACCEPTED,
                    to_state=Finding.Status.OPEN,
                    message="risk acceptance expired",
                )
    if expired:  # the re-issued documents no longer carry these acceptances
        vex_reissue_after_commit(expired)
    return len(expired)


def _acknowledge_in_aqua(finding: Finding, *, reason: str, until: datetime | None) -> None:
    if not AquaClient.configured():
        return
    tag = finding.tag
    repository = finding.repository
    issue = AquaIssue(
        image_name=f"{repository.name}:{tag.name or 'latest'}",
        registry_name=repository.registry,
        issue_name=finding.vulnerability_id,
        resource_name=finding.package,
        resource_version=finding.installed_version,
        resource_format=finding.package_type,
        fix_version=finding.fixed_version.split(",")[0].strip(),
    )
    days = None
    if until is not None:
        days = max(1, (until - timezone.now()).days)
    try:
        AquaClient().acknowledge([issue], comment=reason, expiration_days=days)
    except ProviderError as exc:
        log.warning("finding %s: acknowledging in Aqua failed: %r", finding.pk, str(exc))
        audit_record(
            kind="provider_call",
            actor_label="provider:aqua",
            obj=finding,
            message=f"acknowledging in Aqua failed: {exc}",
            data={"provider": "aqua", "error": str(exc)[:500]},
        )
        return
    audit_record(
        kind="provider_call",
        actor_label="provider:aqua",
        obj=finding,
        message=f"{finding.vulnerability_id} in {finding.package} acknowledged in Aqua",
    )
