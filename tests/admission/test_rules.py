"""The pure decision: a table of cases, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remediator.engine.admission.review import ReviewInvalid, parse_review
from remediator.engine.rules.admission import ActionFact, ImageFacts, ImageUnderReview, decide
from remediator.engine.rules.admission import AdmissionRule as Rule
from remediator.engine.rules.criteria import FindingFacts

NOW = datetime(2026, 11, 30, tzinfo=UTC)
CRIT = FindingFacts(
    vulnerability="CVE-1", severity="critical", fixable=True, fixable_since=NOW - timedelta(days=30)
)
HIGH_KEV = FindingFacts(vulnerability="CVE-2", severity="high", kev=True, epss=0.7)
LOW = FindingFacts(vulnerability="CVE-3", severity="low", epss=0.01)
ACCEPTED = FindingFacts(
    vulnerability="CVE-4", severity="critical", status="accepted", accepted_until=NOW + timedelta(1)
)
EXPIRED = FindingFacts(
    vulnerability="CVE-5", severity="critical", status="accepted", accepted_until=NOW - timedelta(1)
)
FALSE_POSITIVE = FindingFacts(vulnerability="CVE-6", severity="critical", status="false_positive")


def image(*findings, action=None, repository="registry.example.com/shop/api") -> ImageUnderReview:
    facts = ImageFacts(repository, "sha256:" + "a" * 64, tuple(findings), action)
    return ImageUnderReview("app", f"{repository}:1", facts)


CASES = [
    # (findings, rules, namespace, expected outcome, CVEs named)
    ([CRIT], [Rule("crit", min_severity="critical")], "default", "deny", ["CVE-1"]),
    ([CRIT], [Rule("crit", mode="warn", min_severity="critical")], "default", "warn", ["CVE-1"]),
    ([LOW], [Rule("crit", min_severity="critical")], "default", "allow", []),
    ([HIGH_KEV, LOW], [Rule("kev", kev=True)], "default", "deny", ["CVE-2"]),
    ([HIGH_KEV, LOW], [Rule("epss", min_epss=0.5)], "default", "deny", ["CVE-2"]),
    ([CRIT], [Rule("old", fix_available=True, fix_grace_days=14)], "default", "deny", ["CVE-1"]),
    ([CRIT], [Rule("older", fix_available=True, fix_grace_days=60)], "default", "allow", []),
    ([HIGH_KEV], [Rule("fixable", fix_available=True)], "default", "allow", []),
    ([ACCEPTED, FALSE_POSITIVE], [Rule("crit", min_severity="critical")], "default", "allow", []),
    ([EXPIRED], [Rule("crit", min_severity="critical")], "default", "deny", ["CVE-5"]),
    ([CRIT], [Rule("prod", namespace_glob="prod-*")], "default", "allow", []),
    ([CRIT], [Rule("prod", namespace_glob="prod-*")], "prod-eu", "deny", ["CVE-1"]),
    ([CRIT], [Rule("other", image_glob="docker.io/*")], "default", "allow", []),
    ([CRIT], [Rule("shop", image_glob="registry.example.com/shop/*")], "x", "deny", ["CVE-1"]),
    ([CRIT], [], "default", "allow", []),
]


@pytest.mark.parametrize(("findings", "rules", "namespace", "outcome", "cves"), CASES)
def test_decide(findings, rules, namespace, outcome, cves):
    decision = decide([image(*findings)], rules, namespace=namespace, now=NOW)
    assert decision.outcome == outcome
    assert decision.allowed is (outcome != "deny")
    assert decision.vulnerabilities == cves


def test_a_denial_names_the_open_action_and_break_glass_turns_it_into_warnings():
    action = ActionFact(12, "rebuild", "awaiting_approval", "https://r.example/actions/12/")
    rules = [Rule("crit", min_severity="critical")]
    denied = decide([image(CRIT, action=action)], rules, namespace="d", now=NOW)
    assert "rebuild #12 awaiting approval (https://r.example/actions/12/)" in denied.message
    broken = decide([image(CRIT)], rules, namespace="d", now=NOW, break_glass="INC-1")
    assert broken.allowed and broken.outcome == "break_glass"
    assert broken.warnings[0].startswith("break-glass (INC-1)")


@pytest.mark.parametrize(
    ("mode", "outcome"), [("allow", "allow"), ("warn", "warn"), ("deny", "deny")]
)
def test_unknown_images(mode, outcome):
    unknown = ImageUnderReview("app", "example.com/never:1")
    assert decide([unknown], [], namespace="d", now=NOW, unknown=mode).outcome == outcome


def test_many_cves_are_summarised():
    findings = [FindingFacts(vulnerability=f"CVE-{n}", severity="critical") for n in range(9)]
    decision = decide(
        [image(*findings)], [Rule("c", min_severity="critical")], namespace="d", now=NOW
    )
    assert "and 4 more" in decision.message


def test_a_review_without_a_uid_is_invalid():
    with pytest.raises(ReviewInvalid, match="uid"):
        parse_review(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 5}}
        )


def test_a_cve_in_several_packages_is_named_once_at_its_worst_severity():
    twice = [
        FindingFacts(vulnerability="CVE-9", severity="low", package="a"),
        FindingFacts(vulnerability="CVE-9", severity="high", package="b"),
    ]
    decision = decide([image(*twice)], [Rule("any")], namespace="d", now=NOW)
    assert "CVE-9 (high)" in decision.message and "CVE-9 (low)" not in decision.message
