"""People's decisions about single findings: accept the risk (until a date), dismiss
as a false positive, or reopen. Accepted risks are acknowledged in Aqua when it is
configured, and reopen by themselves when their acceptance expires."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from findings.models import Finding
from remediator.audit import audit_record
from remediator.providers.aqua import AquaClient, AquaIssue
from remediator.providers.base import ProviderError

from .actions import ActionNotAllowed

log = logging.getLogger(__name__)
DECIDE_PERMISSION = "remediator.approve_action"
DECIDED = (Finding.Status.ACCEPTED, Finding.Status.FALSE_POSITIVE)


def _decide(*, finding_id: int, user, to: str, reason: str, until: datetime | None) -> Finding:
    if not user.has_perm(DECIDE_PERMISSION):
        raise ActionNotAllowed(
            "deciding about findings needs the permission approve_action (Security approvers)",
            code="permission_denied",
        )
    if to != Finding.Status.OPEN and not reason.strip():
        raise ActionNotAllowed("a reason is required", code="invalid")
    if until is not None and until <= timezone.now():
        raise ActionNotAllowed("the acceptance must end in the future", code="invalid")
    with transaction.atomic():
        finding = Finding.objects.select_for_update().get(pk=finding_id)
        allowed_from = DECIDED if to == Finding.Status.OPEN else (Finding.Status.OPEN,)
        if finding.status not in allowed_from:
            raise ActionNotAllowed(
                f"finding is {finding.status}; only {'/'.join(allowed_from)} findings can "
                f"become {to}",
                code="wrong_state",
            )
        before = finding.status
        finding.status = to
        finding.status_reason = reason.strip()
        finding.accepted_until = until if to == Finding.Status.ACCEPTED else None
        finding.save(update_fields=["status", "status_reason", "accepted_until"])
        audit_record(
            kind="finding",
            actor=user,
            obj=finding,
            from_state=before,
            to_state=to,
            message=reason.strip() or f"{before} -> {to}",
            data={"accepted_until": until.isoformat() if until else None},
        )
    return finding


def finding_accept_risk(
    *, finding_id: int, user, reason: str, until: datetime | None = None
) -> Finding:
    """Accept an open finding's risk (optionally until a date) and tell Aqua."""
    finding = _decide(
        finding_id=finding_id, user=user, to=Finding.Status.ACCEPTED, reason=reason, until=until
    )
    _acknowledge_in_aqua(finding, reason=reason, until=until)
    return finding


def finding_mark_false_positive(*, finding_id: int, user, reason: str) -> Finding:
    return _decide(
        finding_id=finding_id,
        user=user,
        to=Finding.Status.FALSE_POSITIVE,
        reason=reason,
        until=None,
    )


def finding_reopen(*, finding_id: int, user, reason: str = "") -> Finding:
    """Undo an acceptance or a false-positive decision."""
    return _decide(
        finding_id=finding_id, user=user, to=Finding.Status.OPEN, reason=reason, until=None
    )


def accepted_risks_expire(*, now: datetime | None = None) -> int:
    """Reopen accepted findings whose acceptance has ended; returns how many."""
    now = now or timezone.now()
    expired = list(
        Finding.objects.filter(status=Finding.Status.ACCEPTED, accepted_until__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in expired:
        with transaction.atomic():
            changed = Finding.objects.filter(
                pk=pk, status=Finding.Status.ACCEPTED, accepted_until__lte=now
            ).update(status=Finding.Status.OPEN, accepted_until=None)
            if changed:
                audit_record(
                    kind="finding",
                    actor_label="system",
                    obj=Finding(pk=pk),
                    from_state=Finding.Status.ACCEPTED,
                    to_state=Finding.Status.OPEN,
                    message="risk acceptance expired",
                )
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
        log.warning("finding %s: acknowledging in Aqua failed: %s", finding.pk, exc)
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
