"""``vendor_not_affected``: a criterion of remediation and admission policies alike. A
trusted vendor's not-affected statement changes a policy's outcome; an untrusted one
changes nothing."""

from __future__ import annotations

import json

import pytest

from findings.models import Finding
from remediator.engine.config_as_code.keys import CRITERIA_KEYS
from remediator.engine.models import AdmissionPolicy, Policy, RemediationAction
from remediator.engine.rules.criteria import Criteria, FindingFacts, criteria_holds
from remediator.engine.services.dry_run import policy_dry_run
from remediator.engine.services.evaluate import tag_evaluate
from remediator.engine.services.finding_facts import facts_iter
from tests.admission.conftest import admission_settings, answer_of, post_review, sample  # noqa: F401
from tests.engine.factories import ingest, tag_of, vuln

from .conftest import vex_receive

ALPINE_VEX = {
    "@context": "https://openvex.dev/ns/v0.2.0",
    "@id": "https://alpine.example/vex/openssl-2024-6119",
    "author": "Alpine Security Team",
    "timestamp": "2026-11-20T10:00:00Z",
    "version": 1,
    "statements": [
        {
            "vulnerability": {"name": "CVE-2024-6119"},
            "products": [
                {
                    "@id": "pkg:oci/alpine?repository_url=index.docker.io/library/alpine",
                    "subcomponents": [{"@id": "pkg:apk/alpine/openssl@3.3.1-r0?arch=x86_64"}],
                }
            ],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        }
    ],
}


@pytest.mark.parametrize(
    ("wanted", "marked", "holds"),
    [
        (None, True, True),
        (None, False, True),
        (False, True, False),
        (False, False, True),
        (True, True, True),
        (True, False, False),
    ],
)
def test_the_criterion_as_a_table(wanted, marked, holds):
    criteria = Criteria(vendor_not_affected=wanted)
    assert criteria_holds(criteria, FindingFacts(vendor_not_affected=marked)) is holds


def test_it_is_a_yaml_key_of_both_kinds_of_policy():
    assert CRITERIA_KEYS["vendor_not_affected"] == ("vendor_not_affected", "true or false")


@pytest.fixture
def alpine(db):
    """alpine:3.10 with a critical, fixable CVE-2024-6119 in openssl, and Alpine's VEX
    document saying that image is not affected through openssl."""
    tag = tag_of(ingest(vuln("CVE-2024-6119"), image="alpine", tag="3.10", digest_no=310))
    vex_receive(json.dumps(ALPINE_VEX).encode())
    return tag


@pytest.mark.django_db
@pytest.mark.parametrize(("trusted", "denied"), [([], True), (["alpine security*"], False)])
def test_admission_skips_what_a_trusted_vendor_marks_not_affected(
    client, alpine, settings, trusted, denied
):
    settings.VEX_TRUSTED_AUTHORS = trusted
    AdmissionPolicy.objects.create(
        name="block-critical", min_severity="critical", vendor_not_affected=False
    )

    answer = answer_of(post_review(client, sample("pod_alpine_3_10.json")))

    assert answer["allowed"] is not denied
    if denied:
        assert "CVE-2024-6119 (critical)" in answer["status"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(("trusted", "actions"), [([], 1), (["Alpine Security Team"], 0)])
def test_a_remediation_policy_skips_what_a_trusted_vendor_marks_not_affected(
    alpine, settings, trusted, actions
):
    settings.VEX_TRUSTED_AUTHORS = trusted
    Policy.objects.update(enabled=False)  # the seeded ones
    Policy.objects.create(
        name="rescan-critical",
        min_severity="critical",
        action="rescan",
        requires_approval=True,
        vendor_not_affected=False,
    )

    tag_evaluate(tag=alpine)

    assert RemediationAction.objects.count() == actions
    assert Finding.objects.get().status == "open"  # the statement changes no finding


@pytest.mark.django_db
def test_the_dry_run_and_the_loader_read_it(alpine, settings):
    settings.VEX_TRUSTED_AUTHORS = ["Alpine*"]
    Policy.objects.update(enabled=False)  # the seeded ones
    Policy.objects.create(
        name="only-vendor-cleared",
        min_severity="unknown",
        action="notify",
        vendor_not_affected=True,
    )
    finding = Finding.objects.get()

    (fact,) = facts_iter(Finding.objects.all(), fields={"vendor_not_affected"})
    (matched, unmatched) = policy_dry_run()

    assert (fact.id, fact.vendor_not_affected) == (finding.pk, True)
    assert (matched.findings, unmatched.findings) == (1, 0)
    settings.VEX_TRUSTED_AUTHORS = []
    (matched, unmatched) = policy_dry_run()
    assert (matched.findings, unmatched.findings) == (0, 1)
