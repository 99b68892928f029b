"""What the policy would do to today's open findings, without doing it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from findings.models import Finding
from remediator.policy import FindingFacts, decide

from .facts import facts_iter, policies_enabled, rule_from_policy

SAMPLES = 5


@dataclass
class RuleDryRun:
    """One rule's share of the open findings. ``rule_id`` None: the findings no rule matched."""

    rule_id: int | None
    rule_name: str
    action: str = ""
    requires_approval: bool = False
    findings: int = 0
    images: int = 0
    """Distinct repository:tag streams."""
    samples: list[dict] = field(default_factory=list)
    _tags: set[tuple[str, str]] = field(default_factory=set, repr=False)

    def add(self, facts: FindingFacts) -> None:
        self.findings += 1
        self._tags.add((facts.repository, facts.tag))
        self.images = len(self._tags)
        if len(self.samples) < SAMPLES:
            self.samples.append(
                {
                    "finding_id": facts.id,
                    "image": f"{facts.repository}:{facts.tag}" if facts.tag else facts.repository,
                    "vulnerability_id": facts.vulnerability_id,
                    "package": facts.package,
                    "severity": facts.severity,
                }
            )


def policy_dry_run(*, policy_ids: list[int] | None = None) -> list[RuleDryRun]:
    """Each enabled rule in order (first match wins), then the unmatched findings last."""
    policies = policies_enabled(policy_ids=policy_ids)
    rules = [rule_from_policy(p) for p in policies]
    results = {r.id: RuleDryRun(r.id, r.name, r.action, r.requires_approval, 0, 0) for r in rules}
    unmatched = RuleDryRun(None, "(no rule matched)")
    now = timezone.now()
    for facts in facts_iter(Finding.objects.open().order_by()):
        decisions = decide([facts], rules, now=now)
        target = results[decisions[0].rule_id] if decisions else unmatched
        target.add(facts)
    return [*results.values(), unmatched]
