"""What one admission policy would deny today, over plain data (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from remediator.engine.rules.admission import WARN, AdmissionRule, ImageFacts
from remediator.engine.rules.criteria import FindingFacts
from remediator.engine.rules.would_deny import (
    TAG_ONLY,
    Container,
    PastReview,
    reviews_would_deny,
    would_deny,
)

NOW = datetime(2026, 11, 20, tzinfo=UTC)
CRITICAL = FindingFacts(id=1, vulnerability="CVE-2024-6119", severity="critical")
HIGH = FindingFacts(id=2, vulnerability="CVE-2023-44487", severity="high")
ALPINE = ImageFacts("docker.io/library/alpine", "sha256:aaa", (CRITICAL, HIGH))
NGINX = ImageFacts("docker.io/library/nginx", "sha256:bbb", (HIGH,))


def running(namespace: str, name: str, facts: ImageFacts | None, ref: str = "") -> Container:
    reference = ref or (f"{facts.repository}@{facts.digest}" if facts else "example.com/x:1")
    return Container(namespace, "Deployment", name, "app", reference, facts, cluster="prod")


FLEET = [
    running("shop", "cart", ALPINE),
    running("shop", "cart-2", ALPINE),
    running("shop", "web", NGINX),
    running("batch", "etl", ALPINE),
    running("batch", "unknown", None),
]


def test_counts_the_containers_workloads_images_and_namespaces_a_policy_would_deny():
    tally = would_deny(AdmissionRule(name="crit", min_severity="critical"), FLEET, now=NOW)
    assert (tally.judged, tally.unknown, tally.matched) == (5, 1, 3)
    assert (tally.images, tally.workloads) == (1, 3)
    assert tally.per_namespace == [("shop", 2), ("batch", 1)]
    assert [h.container.name for h in tally.first] == ["cart", "cart-2", "etl"]
    assert tally.first[0].vulnerabilities == ("CVE-2024-6119",)


def test_each_cve_is_named_once_worst_first():
    rule = AdmissionRule(name="high", min_severity="high")
    tally = would_deny(rule, FLEET, now=NOW)
    assert tally.matched == 4
    assert tally.first[0].vulnerabilities == ("CVE-2024-6119", "CVE-2023-44487")


def test_the_listed_hits_are_limited_but_the_counts_are_not():
    tally = would_deny(AdmissionRule(name="high", min_severity="high"), FLEET, now=NOW, limit=2)
    assert tally.matched == 4 and len(tally.first) == 2


def test_the_image_and_namespace_globs_narrow_as_at_admission():
    by_image = AdmissionRule(name="n", min_severity="high", image_glob="nginx")
    assert [h.container.name for h in would_deny(by_image, FLEET, now=NOW).first] == ["web"]
    by_namespace = AdmissionRule(name="b", min_severity="critical", namespace_glob="bat*")
    assert [h.container.name for h in would_deny(by_namespace, FLEET, now=NOW).first] == ["etl"]


def test_accepted_and_false_positive_findings_deny_nothing():
    accepted = CRITICAL._replace(status="accepted", accepted_until=NOW + timedelta(days=1))
    expired = CRITICAL._replace(status="accepted", accepted_until=NOW - timedelta(days=1))
    rule = AdmissionRule(name="crit", min_severity="critical")
    for fact, denied in (
        (accepted, 0),
        (expired, 1),
        (CRITICAL._replace(status="false_positive"), 0),
    ):
        image = ImageFacts("docker.io/library/alpine", "sha256:aaa", (fact,))
        assert would_deny(rule, [running("shop", "cart", image)], now=NOW).matched == denied


def test_the_age_conditions_are_judged_today():
    fixable = CRITICAL._replace(fixable=True, fixable_since=NOW - timedelta(days=3))
    image = ImageFacts("docker.io/library/alpine", "sha256:aaa", (fixable,))
    grace = AdmissionRule(name="g", min_severity="critical", fix_grace_days=7)
    assert would_deny(grace, [running("shop", "cart", image)], now=NOW).matched == 0
    later = NOW + timedelta(days=5)
    assert would_deny(grace, [running("shop", "cart", image)], now=later).matched == 1


def test_a_digest_policy_judges_the_reference_not_the_findings():
    rule = AdmissionRule(name="pin", require_digest=True, mode=WARN)
    fleet = [
        running("shop", "by-tag", None, ref="docker.io/library/alpine:3.10"),
        running("shop", "by-digest", ALPINE),
        running("shop", "invalid", None, ref="UPPER CASE"),
    ]
    tally = would_deny(rule, fleet, now=NOW)
    assert (tally.matched, tally.unknown) == (1, 0)
    assert tally.first[0].container.name == "by-tag" and tally.first[0].reason == TAG_ONLY


def test_a_review_counts_once_in_its_namespace_when_any_container_is_hit():
    reviews = [
        PastReview("shop", "Deployment", "cart", tuple(FLEET[:3])),
        PastReview("shop", "Deployment", "web", (FLEET[2],)),
        PastReview("batch", "Job", "etl", (FLEET[3], FLEET[4])),
        PastReview("batch", "Job", "clean", ()),
    ]
    tally = reviews_would_deny(AdmissionRule(name="c", min_severity="critical"), reviews, now=NOW)
    assert (tally.judged, tally.matched, tally.unknown) == (4, 2, 1)
    assert tally.per_namespace == [("batch", 1), ("shop", 1)]
    assert [h.container.name for h in tally.first] == ["cart", "etl"]
