"""After every scan: close the loop on earlier actions, then run the policy."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from findings.models import Finding, Scan, Tag
from remediator.engine import ownership
from remediator.engine.models import OPEN_STATES, RemediationAction
from remediator.engine.rules.remediation import DECIDE_FIELDS, OpenAction, decide, plan
from remediator.engine.vex.reissue import vex_reissue_after_scan

from .actions import COOLDOWN_STATES
from .deadlines import scan_due_dates_refresh
from .finding_facts import facts_iter
from .policy_rules import policies_enabled, rule_from_policy
from .propose import WAITING, action_propose
from .verify import verify_scan


def cooling_down_kinds(*, tag_id: int) -> set[str]:
    """Kinds whose latest finished action for this tag failed less than the cooldown ago."""
    cutoff = timezone.now() - timedelta(minutes=settings.ACTION_COOLDOWN_MINUTES)
    latest: dict[str, str] = {}
    rows = (
        RemediationAction.objects.filter(tag_id=tag_id, finished_at__gte=cutoff)
        .order_by("-finished_at", "-id")
        .values_list("kind", "state")
    )
    for kind, state in rows:
        latest.setdefault(kind, state)
    return {kind for kind, state in latest.items() if state in COOLDOWN_STATES}


def tag_evaluate(*, tag: Tag) -> list[RemediationAction]:
    """Run the enabled policies over the tag's open findings; create or join actions."""
    repository = str(tag.repository)
    policies = policies_enabled()
    if not policies:
        return []
    findings = Finding.objects.filter(tag=tag, status=Finding.Status.OPEN)
    rules = [rule_from_policy(p) for p in policies]
    facts = facts_iter(findings, fields=DECIDE_FIELDS, rules=rules)
    decisions = decide(facts, rules, now=timezone.now())
    open_actions = {
        (repository, tag.name, a.kind): OpenAction(a.pk, a.state)
        for a in RemediationAction.objects.filter(tag=tag, state__in=OPEN_STATES)
    }
    cooling = {(repository, tag.name, k) for k in cooling_down_kinds(tag_id=tag.pk)}
    by_id = {p.pk: p for p in policies}
    plans = plan(
        decisions,
        open_actions=open_actions,
        cooling_down=cooling,
        rule_order={p.pk: p.order for p in policies},
    )
    actions = []
    for step in plans:
        if step.wait:
            continue
        policy = by_id[step.first.rule_id]
        action, outcome = action_propose(
            tag=tag,
            kind=step.kind,
            finding_ids=step.finding_ids,
            requires_approval=step.requires_approval,
            policy=policy,
            build_target_id=step.first.build_target_id,
            requested_by=policy.owner,
            actor_label=f"policy:{policy.name}",
            reason=f"policy {policy.name}: {len(step.finding_ids)} finding(s) in {tag}",
        )
        if outcome != WAITING:
            actions.append(action)
    return actions


def scan_evaluate(*, scan_id: int) -> list[RemediationAction]:
    """Deadlines of the scan's new findings, verification (did earlier actions work?),
    then the policy over open findings.

    Returns the actions this scan touched: verified, failed verification,
    superseded, created or joined.
    """
    scan = Scan.objects.select_related("tag__repository", "image").filter(pk=scan_id).first()
    if scan is None:
        return []
    ownership.owner_refresh_first(scan.tag.repository)
    scan_due_dates_refresh(scan=scan)
    touched = verify_scan(scan=scan)
    if not scan.failed:
        vex_reissue_after_scan(scan)
    if scan.superseded or scan.failed:  # a late retry or a failed scan changes nothing
        return touched
    return touched + tag_evaluate(tag=scan.tag)
