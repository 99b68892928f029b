"""Demo actions: one or more RemediationActions in every state, with the
approvals, transitions and provider calls that would have led there."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from findings.models import Tag
from findings.status import findings_remediation_start
from remediator.engine.audit import audit_record
from remediator.engine.models import (
    ActionKind,
    ActionState,
    Approval,
    AuditEvent,
    BuildTarget,
    Policy,
    RemediationAction,
)

S = ActionState
DOCKERFILE = """\
FROM ubuntu:18.04
RUN apt-get update \\
 && apt-get install -y --no-install-recommends bash coreutils libssl1.1 openssl curl \\
 && rm -rf /var/lib/apt/lists/*
FROM alpine:3.9
RUN apk add --no-cache musl openssl libcrypto1.1 libssl1.1 ca-certificates
COPY app /usr/local/bin/app
ENTRYPOINT ["/usr/local/bin/app"]
"""

# The path of states that leads to each demo state, and who did what.
PATHS: dict[str, list[str]] = {
    S.PROPOSED: [],
    S.AWAITING_APPROVAL: [S.AWAITING_APPROVAL],
    S.APPROVED: [S.AWAITING_APPROVAL, S.APPROVED],
    S.DISPATCHED: [S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED],
    S.RUNNING: [S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED, S.RUNNING],
    S.SUCCEEDED: [S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED, S.RUNNING, S.SUCCEEDED],
    S.VERIFIED: [S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED, S.RUNNING, S.SUCCEEDED, S.VERIFIED],
    S.VERIFICATION_FAILED: [
        S.AWAITING_APPROVAL,
        S.APPROVED,
        S.DISPATCHED,
        S.RUNNING,
        S.SUCCEEDED,
        S.VERIFICATION_FAILED,
    ],
    S.FAILED: [S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED, S.FAILED],
    S.REJECTED: [S.AWAITING_APPROVAL, S.REJECTED],
    S.CANCELLED: [S.AWAITING_APPROVAL, S.CANCELLED],
    S.SUPERSEDED: [S.SUPERSEDED],
}
PLAN = [
    S.AWAITING_APPROVAL,
    S.AWAITING_APPROVAL,
    S.AWAITING_APPROVAL,
    S.AWAITING_APPROVAL,
    S.PROPOSED,
    S.APPROVED,
    S.DISPATCHED,
    S.RUNNING,
    S.SUCCEEDED,
    S.VERIFIED,
    S.VERIFIED,
    S.VERIFICATION_FAILED,
    S.FAILED,
    S.REJECTED,
    S.CANCELLED,
    S.SUPERSEDED,
]


def demo_build_target() -> BuildTarget:
    target, _ = BuildTarget.objects.update_or_create(
        name="acme-images",
        defaults={
            "image_patterns": [
                "registry.acme.io/*",
                "ghcr.io/acme/*",
                "docker.io/acmecorp/*",
                "harbor.acme.io/*",
            ],
            "provider": "gitlab",
            "url": "https://gitlab.acme.test",
            "project": "42",
            "ref": "main",
            "token_env": "REMEDIATOR_SECRET_DEMO_GITLAB_TRIGGER",
            "dockerfile": DOCKERFILE,
        },
    )
    return target


def _stamp_event(event: AuditEvent, when: datetime) -> None:
    # Demo history is backdated once, at creation.
    AuditEvent.objects.filter(pk=event.pk).update(created_at=when)


def _candidate_tags(limit: int) -> list[Tag]:
    return list(
        Tag.objects.annotate(
            worst=Count(
                "findings",
                filter=Q(
                    findings__status="open", findings__fixable=True, findings__severity_rank__gte=3
                ),
            )
        )
        .filter(worst__gt=0)
        .select_related("repository", "image", "latest_scan")
        .order_by("-worst", "id")[:limit]
    )


def create_demo_actions(*, users: dict, now: datetime | None = None) -> int:
    now = now or timezone.now()
    target = demo_build_target()
    policy = Policy.objects.filter(action=ActionKind.REBUILD).order_by("order").first()
    tags = _candidate_tags(len(PLAN))
    alice, bob = users["alice"], users["bob"]
    created = 0
    for index, (state, tag) in enumerate(zip(PLAN, tags, strict=False)):
        by_hand = index % 3 == 1
        requester = (alice if index % 2 else bob) if by_hand else None
        approver = bob if requester == alice else alice
        started = now - timedelta(days=12 - index * 0.7, hours=index)
        findings = list(
            tag.findings.filter(
                status__in=["open", "in_remediation"], fixable=True, severity_rank__gte=3
            ).order_by("-severity_rank")[:12]
        )
        action = RemediationAction.objects.create(
            kind=ActionKind.REBUILD,
            state=S.PROPOSED,
            repository=tag.repository,
            tag=tag,
            image=tag.image,
            policy=None if by_hand else policy,
            build_target=target,
            requires_approval=True,
            requested_by=requester,
            reason="Requested from the image page" if by_hand else "",
        )
        action.findings.set(findings)
        first = audit_record(
            kind="transition",
            action=action,
            actor=requester,
            actor_label="" if requester else f"policy:{policy}",
            to_state=S.PROPOSED,
            message="proposed",
        )
        _stamp_event(first, started)
        _walk(action, PATHS[state], started=started, approver=approver, requester=requester)
        created += 1
    return created


def _walk(action, path, *, started, approver, requester) -> None:
    frm = S.PROPOSED
    when = started
    changes: dict = {}
    for to in path:
        when = when + timedelta(minutes=7)
        actor, label, message = None, "system", f"{frm} -> {to}"
        if to in (S.APPROVED, S.REJECTED):
            decision = Approval.Decision.APPROVE if to == S.APPROVED else Approval.Decision.REJECT
            reason = "" if to == S.APPROVED else "Release freeze this week; rebuild on Monday."
            approval = Approval.objects.create(
                action=action,
                user=approver,
                decision=decision,
                requested_by=requester,
                reason=reason,
            )
            Approval.objects.filter(pk=approval.pk).update(created_at=when)
            ev = audit_record(
                kind="approval",
                action=action,
                actor=approver,
                obj=approval,
                message=("approved" if decision == "approve" else "rejected")
                + (f": {reason}" if reason else ""),
            )
            _stamp_event(ev, when)
            actor, label = approver, ""
        if to == S.CANCELLED:
            actor, label, message = approver, "", "Superseded by a base-image bump"
        if to in (S.DISPATCHED, S.RUNNING, S.FAILED) or to == S.SUCCEEDED:
            _provider_call(action, to, when)
        if to == S.DISPATCHED:
            changes.update(
                external_id=f"{1800 + action.pk}",
                external_url=f"https://gitlab.acme.test/acme/images/-/pipelines/{1800 + action.pk}",
                dispatched_at=when,
            )
        if to == S.FAILED:
            changes.update(error="gitlab: pipeline failed (job build-image: exit code 1)")
        if to in (S.VERIFIED, S.VERIFICATION_FAILED):
            changes.update(verified_by_scan=action.tag.latest_scan)
            if to == S.VERIFICATION_FAILED:
                changes.update(error="The new scan still reports 2 of the covered findings.")
        ev = audit_record(
            kind="transition",
            action=action,
            actor=actor,
            actor_label=label,
            from_state=frm,
            to_state=to,
            message=message,
        )
        _stamp_event(ev, when)
        frm = to
    final = {"state": frm, **changes}
    if frm in (
        S.SUCCEEDED,
        S.FAILED,
        S.VERIFIED,
        S.VERIFICATION_FAILED,
        S.REJECTED,
        S.CANCELLED,
        S.SUPERSEDED,
    ):
        final["finished_at"] = when
    RemediationAction.objects.filter(pk=action.pk).update(created_at=started, **final)
    if frm in (S.AWAITING_APPROVAL, S.APPROVED, S.DISPATCHED, S.RUNNING, S.SUCCEEDED):
        findings_remediation_start(action.findings.all())


def _provider_call(action, to, when) -> None:
    pipeline = 1800 + action.pk
    if to == S.DISPATCHED:
        method, url, status = (
            "POST",
            "https://gitlab.acme.test/api/v4/projects/42/trigger/pipeline",
            201,
        )
    else:
        method, url = "GET", f"https://gitlab.acme.test/api/v4/projects/42/pipelines/{pipeline}"
        status = 200
    ev = audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:gitlab",
        message=f"{method} {url} -> {status}",
        data={
            "provider": "gitlab",
            "method": method,
            "url": url,
            "status": status,
            "duration_ms": 180 + action.pk % 90,
        },
    )
    _stamp_event(ev, when - timedelta(seconds=20))
