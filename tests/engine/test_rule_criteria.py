"""One table of criteria cases, run through both kinds of policy: the same verdicts.

A remediation rule that matches decides an action; an enforcing admission rule that
matches denies the image. Where the image runs is, for remediation, where the inventory
saw it running and, for admission, the namespace under review.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from remediator.engine.config_as_code.keys import ADMISSION_KEYS, CRITERIA_KEYS, POLICY_KEYS
from remediator.engine.models import AdmissionPolicy, Policy
from remediator.engine.policy_criteria import PolicyCriteria
from remediator.engine.rules import admission, remediation
from remediator.engine.rules.criteria import Criteria, FindingFacts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
REPOSITORY = "registry.example.com/acme/api"
NAMESPACE = "prod-eu"


def facts(**changes) -> FindingFacts:
    values = {
        "id": 1,
        "repository": REPOSITORY,
        "tag": "1.4",
        "vulnerability": "CVE-2024-6119",
        "package": "openssl",
        "severity": "critical",
        "fixable": True,
        "fixable_since": NOW - timedelta(days=10),
        "first_seen": NOW - timedelta(days=20),
        "namespaces": (NAMESPACE,),
        **changes,
    }
    return FindingFacts(**values)


UNFIXABLE = {"fixable": False, "fixable_since": None}
CASES = [
    # (case, finding changes, criteria, matches?)
    ("no condition", {}, {}, True),
    ("severity at least", {"severity": "high"}, {"min_severity": "high"}, True),
    ("severity below", {"severity": "medium"}, {"min_severity": "high"}, False),
    ("unknown severity below low", {"severity": "unknown"}, {"min_severity": "low"}, False),
    ("fixable wanted", {}, {"fix_available": True}, True),
    ("fixable wanted, none", UNFIXABLE, {"fix_available": True}, False),
    ("unfixable wanted", UNFIXABLE, {"fix_available": False}, True),
    ("unfixable wanted, has a fix", {}, {"fix_available": False}, False),
    ("fix known long enough", {}, {"fix_grace_days": 7}, True),
    ("fix too new", {"fixable_since": NOW - timedelta(days=2)}, {"fix_grace_days": 7}, False),
    ("fix known exactly that long", {}, {"fix_grace_days": 10}, True),
    ("grace holds no unfixable finding back", UNFIXABLE, {"fix_grace_days": 7}, True),
    (
        "a fix known for two weeks (fixable_for_days: 14)",
        {"fixable_since": NOW - timedelta(days=15)},
        {"fix_available": True, "fix_grace_days": 14},
        True,
    ),
    (
        "a fix known for two weeks, unfixable",
        UNFIXABLE,
        {"fix_available": True, "fix_grace_days": 14},
        False,
    ),
    (
        "fix date unknown: since first seen",
        {"fixable_since": None},
        {"fix_grace_days": 15},
        True,
    ),
    ("won't fix skipped", {"vendor_status": "will_not_fix"}, {}, False),
    ("'Will Not Fix' spelled out skipped", {"vendor_status": "Will Not Fix"}, {}, False),
    ("end of life skipped", {"vendor_status": "end_of_life"}, {}, False),
    (
        "won't fix included",
        {"vendor_status": "will_not_fix"},
        {"include_wont_fix": True},
        True,
    ),
    ("package glob", {"package": "libssl3"}, {"package_glob": "libssl*"}, True),
    ("package glob ignores case", {"package": "OpenSSL"}, {"package_glob": "openssl"}, True),
    ("package glob misses", {}, {"package_glob": "zlib*"}, False),
    ("image glob over registry/name", {}, {"image_glob": "registry.example.com/acme/*"}, True),
    ("image glob without the registry", {}, {"image_glob": "acme/*"}, True),
    ("image glob misses", {}, {"image_glob": "ghcr.io/*"}, False),
    ("vulnerability id (any case)", {}, {"vulnerability_ids": ("cve-2024-6119",)}, True),
    ("vulnerability id not listed", {}, {"vulnerability_ids": ("CVE-1",)}, False),
    ("old enough", {}, {"min_age_days": 14}, True),
    ("too young", {"first_seen": NOW - timedelta(days=2)}, {"min_age_days": 14}, False),
    ("KEV", {"kev": True}, {"kev": True}, True),
    ("not KEV", {}, {"kev": True}, False),
    ("EPSS at least", {"epss": 0.5}, {"min_epss": 0.5}, True),
    ("EPSS below", {"epss": 0.49}, {"min_epss": 0.5}, False),
    ("EPSS unknown", {}, {"min_epss": 0.1}, False),
    ("no trusted vendor marks it not affected", {}, {"vendor_not_affected": False}, True),
    (
        "a trusted vendor marks it not affected",
        {"vendor_not_affected": True},
        {"vendor_not_affected": False},
        False,
    ),
    (
        "only vendor-cleared ones",
        {"vendor_not_affected": True},
        {"vendor_not_affected": True},
        True,
    ),
    ("running", {}, {"running": True}, True),
    ("namespace glob", {}, {"namespace_glob": "prod-*"}, True),
    ("namespace glob misses", {}, {"namespace_glob": "dev-*"}, False),
    (
        "every condition",
        {"kev": True, "epss": 0.9, "package": "libssl3"},
        {
            "min_severity": "critical",
            "fix_available": True,
            "fix_grace_days": 3,
            "package_glob": "libssl*",
            "image_glob": "acme/*",
            "vulnerability_ids": ("CVE-2024-6119",),
            "min_age_days": 7,
            "kev": True,
            "min_epss": 0.5,
            "running": True,
            "namespace_glob": "prod-*",
        },
        True,
    ),
]


def remediation_matches(finding: FindingFacts, criteria: dict) -> bool:
    rule = remediation.RemediationRule(id=1, name="r", action="rebuild", **criteria)
    return bool(remediation.decide([finding], [rule], now=NOW))


def admission_matches(finding: FindingFacts, criteria: dict) -> bool:
    rule = admission.AdmissionRule("a", **criteria)
    facts = admission.ImageFacts(finding.repository, "sha256:" + "a" * 64, (finding,))
    image = admission.ImageUnderReview("app", f"{finding.repository}:1.4", facts)
    decision = admission.decide([image], [rule], namespace=NAMESPACE, now=NOW)
    return decision.outcome == "deny"


@pytest.mark.parametrize(
    ("changes", "criteria", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_both_kinds_of_policy_give_the_same_verdict(changes, criteria, expected):
    finding = facts(**changes)

    assert remediation_matches(finding, criteria) is expected
    assert admission_matches(finding, criteria) is expected


def test_every_criterion_is_in_the_table():
    used = {name for case in CASES for name in case[2]}

    assert used == {field.name for field in dataclasses.fields(Criteria)}


def test_both_policy_models_store_every_criterion_under_its_name():
    columns = {field.name for field in PolicyCriteria._meta.get_fields()}
    criteria = {field.name for field in dataclasses.fields(Criteria)}

    assert columns == criteria
    for model in (Policy, AdmissionPolicy):
        assert criteria <= {field.name for field in model._meta.get_fields()}


def test_both_yaml_sections_take_every_criterion_under_the_same_key():
    fields = {field for field, _ in CRITERIA_KEYS.values()}

    assert fields == {field.name for field in dataclasses.fields(Criteria)}
    for keys in (POLICY_KEYS, ADMISSION_KEYS):
        assert {key: keys[key] for key in CRITERIA_KEYS} == CRITERIA_KEYS
