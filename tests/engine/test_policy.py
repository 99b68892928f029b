"""The policy as a table of cases: plain facts in, decisions out. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from remediator.engine.rules.criteria import FindingFacts
from remediator.engine.rules.remediation import Decision, OpenAction, decide, plan
from remediator.engine.rules.remediation import RemediationRule as Rule

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def facts(**kw) -> FindingFacts:
    values = {
        "id": 1,
        "repository": "registry.example.com/acme/api",
        "tag": "1.4",
        "vulnerability": "CVE-2024-6119",
        "package": "openssl",
        "severity": "critical",
        "fixable": True,
        "fixable_since": NOW - timedelta(days=10),
        "vendor_status": "",
        "first_seen": NOW - timedelta(days=10),
    }
    values.update(kw)
    return FindingFacts(**values)


REBUILD = Rule(id=1, name="rebuild", min_severity="high", fix_available=True, action="rebuild")
NOTIFY = Rule(
    id=2,
    name="notify",
    min_severity="critical",
    fix_available=False,
    action="notify",
    requires_approval=False,
    notify_channels=("slack",),
)
DEFAULT = [REBUILD, NOTIFY]


def outcome(finding: FindingFacts, rules: list[Rule]) -> str | None:
    decisions = decide([finding], rules, now=NOW)
    return decisions[0].action if decisions else None


CASES = [
    # (case, finding changes, rules, expected action or None = no rule matched)
    ("critical with fix -> rebuild", {}, DEFAULT, "rebuild"),
    ("high with fix -> rebuild", {"severity": "high"}, DEFAULT, "rebuild"),
    ("medium with fix -> nothing", {"severity": "medium"}, DEFAULT, None),
    (
        "critical without fix -> notify",
        {"fixable": False, "fixable_since": None},
        DEFAULT,
        "notify",
    ),
    ("high without fix -> nothing", {"severity": "high", "fixable": False}, DEFAULT, None),
    ("unknown severity -> nothing", {"severity": "unknown"}, DEFAULT, None),
    ("will_not_fix skipped", {"vendor_status": "will_not_fix"}, DEFAULT, None),
    ("end_of_life skipped", {"vendor_status": "end_of_life"}, DEFAULT, None),
    ("'will not fix' spelled out skipped", {"vendor_status": "Will Not Fix"}, DEFAULT, None),
    (
        "will_not_fix matched with include_wont_fix",
        {"vendor_status": "will_not_fix"},
        [replace(REBUILD, include_wont_fix=True)],
        "rebuild",
    ),
    ("affected is fine", {"vendor_status": "affected"}, DEFAULT, "rebuild"),
    (
        "package glob matches",
        {"package": "libssl3"},
        [replace(REBUILD, package_glob="libssl*")],
        "rebuild",
    ),
    (
        "package glob ignores case",
        {"package": "OpenSSL"},
        [replace(REBUILD, package_glob="openssl")],
        "rebuild",
    ),
    ("package glob misses", {}, [replace(REBUILD, package_glob="zlib*")], None),
    (
        "image glob over registry/name",
        {},
        [replace(REBUILD, image_glob="registry.example.com/acme/*")],
        "rebuild",
    ),
    ("image glob without the registry", {}, [replace(REBUILD, image_glob="acme/*")], "rebuild"),
    (
        "image glob: official image by short name",
        {"repository": "docker.io/library/alpine"},
        [replace(REBUILD, image_glob="alpine")],
        "rebuild",
    ),
    ("image glob misses another registry", {}, [replace(REBUILD, image_glob="ghcr.io/*")], None),
    (
        "vulnerability id listed (any case)",
        {"vulnerability": "cve-2024-6119"},
        [replace(REBUILD, vulnerability_ids=("CVE-2024-6119",))],
        "rebuild",
    ),
    ("vulnerability id not listed", {}, [replace(REBUILD, vulnerability_ids=("CVE-1",))], None),
    ("old enough", {}, [replace(REBUILD, min_age_days=7)], "rebuild"),
    (
        "too young",
        {"first_seen": NOW - timedelta(days=2)},
        [replace(REBUILD, min_age_days=7)],
        None,
    ),
    ("fix older than the grace", {}, [replace(REBUILD, fix_grace_days=3)], "rebuild"),
    (
        "fix newer than the grace: not yet",
        {"fixable_since": NOW - timedelta(days=1)},
        [replace(REBUILD, fix_grace_days=3)],
        None,
    ),
    (
        "grace falls through to the next rule",
        {"fixable_since": NOW - timedelta(days=1)},
        [replace(REBUILD, fix_grace_days=3), Rule(id=9, name="tell", action="notify")],
        "notify",
    ),
    ("either fix state", {"fixable": False}, [replace(REBUILD, fix_available=None)], "rebuild"),
    (
        "first match wins",
        {},
        [Rule(id=5, name="ignore-acme", image_glob="acme/*", action="ignore"), REBUILD],
        "ignore",
    ),
    ("no rules -> nothing", {}, [], None),
]


@pytest.mark.parametrize(
    ("changes", "rules", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_policy_table(changes, rules, expected):
    assert outcome(facts(**changes), rules) == expected


def test_decision_carries_approval_channels_and_build_target():
    rule = replace(NOTIFY, build_target_id=3)
    [decision] = decide([facts(fixable=False)], [rule], now=NOW)
    assert decision == Decision(
        finding_id=1,
        repository="registry.example.com/acme/api",
        tag="1.4",
        rule_id=2,
        rule_name="notify",
        action="notify",
        requires_approval=False,
        notify_channels=("slack",),
        build_target_id=3,
    )


KEY = ("registry.example.com/acme/api", "1.4", "rebuild")


def rebuild_decisions(*ids: int) -> list[Decision]:
    return decide([facts(id=i) for i in ids], [REBUILD], now=NOW)


PLAN_CASES = [
    # (case, open action state or None, cooling down?, expected (join id, waits?))
    ("nothing open: create", None, False, (None, False)),
    ("proposed: join", "proposed", False, (7, False)),
    ("awaiting approval: join", "awaiting_approval", False, (7, False)),
    ("approved: join", "approved", False, (7, False)),
    ("dispatched: wait for verification", "dispatched", False, (None, True)),
    ("running: wait", "running", False, (None, True)),
    ("succeeded: wait", "succeeded", False, (None, True)),
    ("failed recently: cooldown", None, True, (None, True)),
    ("open action beats the cooldown", "awaiting_approval", True, (7, False)),
]


@pytest.mark.parametrize(
    ("state", "cooling", "expected"),
    [case[1:] for case in PLAN_CASES],
    ids=[case[0] for case in PLAN_CASES],
)
def test_no_storms_plan_table(state, cooling, expected):
    open_actions = {KEY: OpenAction(7, state)} if state else {}
    [step] = plan(
        rebuild_decisions(1, 2, 3),
        open_actions=open_actions,
        cooling_down=[KEY] if cooling else [],
    )
    assert (step.join_action_id, bool(step.wait)) == expected
    assert step.finding_ids == (1, 2, 3)


def test_many_findings_of_one_tag_make_one_plan_per_kind():
    findings = [facts(id=i) for i in range(1, 51)] + [facts(id=99, fixable=False)]
    plans = plan(decide(findings, DEFAULT, now=NOW), open_actions={})
    assert sorted((p.kind, len(p.finding_ids)) for p in plans) == [("notify", 1), ("rebuild", 50)]


def test_ignore_decisions_plan_nothing():
    ignore = Rule(id=4, name="ignore", action="ignore")
    assert plan(decide([facts()], [ignore], now=NOW), open_actions={}) == []


def test_group_requires_approval_if_any_rule_does_and_earliest_rule_leads():
    auto = Rule(id=11, name="auto", package_glob="zlib", action="rebuild", requires_approval=False)
    gated = replace(REBUILD, id=12, notify_channels=("email",))
    decisions = decide([facts(id=1, package="zlib"), facts(id=2)], [auto, gated], now=NOW)
    [step] = plan(decisions, open_actions={}, rule_order={11: 1, 12: 2})
    assert step.requires_approval and step.first.rule_id == 11
    assert step.notify_channels == ("email",)
