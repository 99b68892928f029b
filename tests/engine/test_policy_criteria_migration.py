"""Migration 0011: admission policies take the criteria remediation policies have.

An admission policy's ``fixable_for_days`` N becomes ``fix_available`` true and
``fix_grace_days`` N; stored policies decide as they did before, and migrating back
restores the old column.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from remediator.engine.rules.admission import ImageFacts, ImageUnderReview, decide
from remediator.engine.rules.criteria import FindingFacts
from remediator.engine.services.policy_rules import admission_rules_enabled

BEFORE = ("remediator", "0010_merge_repositories_by_normalised_name")
AFTER = ("remediator", "0011_admission_policy_shares_policy_criteria")
NOW = datetime(2026, 11, 30, tzinfo=UTC)
OLD = {"any-critical": None, "fixable": 0, "fix-two-weeks-old": 14}
"""Admission policies as stored before: name -> fixable_for_days."""


def _latest() -> tuple[str, str]:
    """The newest migration of the engine: the models' own columns (criteria added since
    0011, e.g. vendor_not_affected) exist there."""
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes("remediator")[0]


def _migrate(target: tuple[str, str]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def _old_verdict(fixable_for_days: int | None, fixable_since: datetime | None) -> bool:
    """What the policy decided before (admission's own rule): a fix known that long."""
    if fixable_for_days is None:
        return True
    return fixable_since is not None and fixable_since <= NOW - timedelta(days=fixable_for_days)


FINDINGS = {
    "unfixable": FindingFacts(vulnerability="CVE-1", severity="critical", first_seen=NOW),
    "fix 3 days old": FindingFacts(
        vulnerability="CVE-2",
        severity="critical",
        fixable=True,
        fixable_since=NOW - timedelta(days=3),
        first_seen=NOW - timedelta(days=30),
    ),
    "fix 20 days old": FindingFacts(
        vulnerability="CVE-3",
        severity="critical",
        fixable=True,
        fixable_since=NOW - timedelta(days=20),
        first_seen=NOW - timedelta(days=30),
        vendor_status="will_not_fix",
    ),
}


def _denies(rule, finding: FindingFacts) -> bool:
    facts = ImageFacts("registry.example.com/shop/api", "sha256:" + "a" * 64, (finding,))
    image = ImageUnderReview("app", "registry.example.com/shop/api:1", facts)
    return decide([image], [rule], namespace="prod", now=NOW).outcome == "deny"


@pytest.mark.django_db(transaction=True)
def test_admission_policies_with_old_values_read_and_decide_the_same_after_the_migration():
    old_apps = _migrate(BEFORE)
    OldAdmissionPolicy = old_apps.get_model("remediator", "AdmissionPolicy")
    for order, (name, days) in enumerate(OLD.items()):
        OldAdmissionPolicy.objects.create(
            name=name, order=order, min_severity="critical", fixable_for_days=days
        )
    old_apps.get_model("remediator", "Policy").objects.create(
        name="grace",
        min_severity="high",
        fix_grace_days=5,
        namespace_glob="prod-*",
        action="notify",
    )
    try:
        new_apps = _migrate(AFTER)
        AdmissionPolicy = new_apps.get_model("remediator", "AdmissionPolicy")
        stored = {
            p.name: (p.fix_available, p.fix_grace_days, p.include_wont_fix)
            for p in AdmissionPolicy.objects.all()
        }
        assert stored == {
            "any-critical": (None, 0, True),
            "fixable": (True, 0, True),
            "fix-two-weeks-old": (True, 14, True),
        }
        grace = new_apps.get_model("remediator", "Policy").objects.get(name="grace")
        assert (grace.min_severity, grace.fix_available, grace.fix_grace_days) == ("high", None, 5)
        assert grace.namespace_glob == "prod-*"
        _migrate(_latest())  # the rules are read through today's models
        rules = {rule.name: rule for rule in admission_rules_enabled()}
        for name, days in OLD.items():
            for finding in FINDINGS.values():
                assert _denies(rules[name], finding) is _old_verdict(days, finding.fixable_since)

        back_apps = _migrate(BEFORE)
        restored = back_apps.get_model("remediator", "AdmissionPolicy").objects.values_list(
            "name", "fixable_for_days"
        )
        assert dict(restored) == OLD
    finally:
        _migrate(_latest())
