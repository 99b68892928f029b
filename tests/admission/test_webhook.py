"""The webhook with real AdmissionReview requests (tests/fixtures/admission/)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY

from findings.models import Finding, RunningImage, ThreatIntel, Vulnerability
from remediator.engine.models import AdmissionPolicy, AuditEvent
from remediator.engine.services.risk import finding_accept_risk
from remediator.engine.services.threat_intel import threat_intel_import
from tests.engine.factories import digest, ingest, vuln

from .conftest import URL, answer_of, post_review, sample

pytestmark = pytest.mark.django_db


def _decisions(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("remediator_admission_decisions_total", {"outcome": outcome})
        or 0.0
    )


def test_a_pod_with_a_vulnerable_image_is_denied_naming_the_cve_and_the_open_action(
    client, vulnerable, enforce_critical
):
    before = _decisions("deny")
    answer = answer_of(post_review(client, sample("pod_alpine_3_10.json")))
    action = vulnerable["action"]
    assert answer["uid"] == "39b56036-a356-4014-9117-cf64aadbb3f4"
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 403
    message = answer["status"]["message"]
    assert "CVE-2024-6119 (critical)" in message
    assert "docker.io/library/alpine" in message and "block-critical" in message
    assert f"rebuild #{action.pk} awaiting approval" in message
    assert f"https://remediator.example.com/actions/{action.pk}/" in message
    event = AuditEvent.objects.get(kind="admission")
    assert event.to_state == "deny" and event.object_id == answer["uid"]
    assert event.actor_label == "k8s:kubernetes-admin"
    assert event.data["vulnerabilities"] == ["CVE-2024-6119"]
    assert _decisions("deny") == before + 1
    assert not RunningImage.objects.exists()  # denied: it does not run


def test_a_deployment_with_a_vulnerable_image_is_denied(client, vulnerable, enforce_critical):
    response = post_review(client, sample("deployment_nginx.json"))
    answer = answer_of(response)
    assert answer["uid"] == "2024ee9c-c374-413c-838d-e62bcb4826be"
    assert answer["allowed"] is False
    assert "CVE-2023-44487 (critical)" in answer["status"]["message"]
    assert "container nginx" in answer["status"]["message"]
    assert response.json()["apiVersion"] == "admission.k8s.io/v1"


def test_the_answer_echoes_a_v1beta1_review_in_its_own_version(client, vulnerable):
    body = post_review(client, sample("pod_alpine_3_10.json")).json()
    assert body["apiVersion"] == "admission.k8s.io/v1beta1"


def test_warn_mode_allows_with_warnings_naming_the_cve(client, vulnerable):
    AdmissionPolicy.objects.create(name="warn-critical", min_severity="critical", mode="warn")
    answer = answer_of(post_review(client, sample("deployment_nginx.json")))
    assert answer["allowed"] is True
    assert any("CVE-2023-44487" in w and "warn-critical" in w for w in answer["warnings"])
    assert AuditEvent.objects.get(kind="admission").to_state == "warn"


def test_a_break_glass_annotation_allows_a_denied_pod_and_is_audited(
    client, vulnerable, enforce_critical, settings
):
    settings.ADMISSION_BREAK_GLASS_USERS = ["kube-review"]
    body = sample("deployment_nginx.json")
    template = body["request"]["object"]["spec"]["template"]["metadata"]
    template["annotations"] = {"remediator.io/break-glass": "INC-4711 outage fix"}
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is True
    assert answer["warnings"][0].startswith("break-glass (INC-4711 outage fix)")
    assert any("CVE-2023-44487" in w for w in answer["warnings"])
    event = AuditEvent.objects.get(kind="admission")
    assert event.to_state == "break_glass"
    assert event.data["break_glass"] == "INC-4711 outage fix"
    assert event.data["user"] == "kube-review"


def test_break_glass_can_be_switched_off(client, vulnerable, enforce_critical, settings):
    settings.ADMISSION_BREAK_GLASS = False
    body = sample("pod_alpine_3_10.json")
    body["request"]["object"]["metadata"]["annotations"] = {"remediator.io/break-glass": "x"}
    assert answer_of(post_review(client, body))["allowed"] is False


def test_an_unexpired_risk_acceptance_allows_and_the_cached_denial_is_dropped(
    client, vulnerable, enforce_critical, approver, django_capture_on_commit_callbacks
):
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is False  # now cached
    finding = Finding.objects.get(vulnerability_id="CVE-2024-6119")
    with django_capture_on_commit_callbacks(execute=True):
        finding_accept_risk(
            finding_id=finding.pk,
            user=approver,
            reason="not reachable",
            until=timezone.now() + timedelta(days=30),
        )
    assert answer_of(post_review(client, body))["allowed"] is True


def test_an_expired_risk_acceptance_denies_again(client, vulnerable, enforce_critical):
    Finding.objects.filter(vulnerability_id="CVE-2024-6119").update(
        status="accepted", accepted_until=timezone.now() - timedelta(minutes=1)
    )
    assert answer_of(post_review(client, sample("pod_alpine_3_10.json")))["allowed"] is False


@pytest.mark.parametrize(
    ("mode", "allowed", "warned"),
    [("allow", True, False), ("warn", True, True), ("deny", False, False)],
)
def test_never_scanned_images_follow_the_setting(client, db, settings, mode, allowed, warned):
    settings.ADMISSION_UNKNOWN_IMAGES = mode
    answer = answer_of(post_review(client, sample("pod_alpine_3_10.json")))
    assert answer["allowed"] is allowed
    assert bool(answer.get("warnings")) is warned
    if not allowed:
        assert "never scanned" in answer["status"]["message"]


def test_a_new_scan_refreshes_the_cached_verdict(
    client, db, enforce_critical, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(vuln("CVE-2024-0001", severity="low"), image="alpine", tag="3.10", digest_no=1)
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is True
    with django_capture_on_commit_callbacks(execute=True):
        ingest(vuln("CVE-2024-6119"), image="alpine", tag="3.10", digest_no=2)
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False and "CVE-2024-6119" in answer["status"]["message"]


def test_a_digest_reference_is_judged_by_that_digest_not_by_the_tag(client, db, enforce_critical):
    ingest(vuln("CVE-2024-6119"), image="alpine", tag="3.10", digest_no=7)
    ingest(image="alpine", tag="3.10", digest_no=8)  # the tag moved to a clean rebuild
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is True
    body["request"]["object"]["spec"]["containers"][0]["image"] = f"alpine@{digest(7)}"
    assert answer_of(post_review(client, body))["allowed"] is False


def test_init_and_ephemeral_containers_are_checked(client, vulnerable, enforce_critical):
    for field in ("initContainers", "ephemeralContainers"):
        body = sample("deployment_nginx.json")
        spec = body["request"]["object"]["spec"]["template"]["spec"]
        spec["containers"][0]["image"] = "registry.example.com/clean/app:1"
        spec[field] = [{"name": "setup", "image": "alpine:3.10"}]
        answer = answer_of(post_review(client, body))
        assert answer["allowed"] is False and "container setup" in answer["status"]["message"]


def test_the_pod_template_of_a_cronjob_is_checked(client, vulnerable, enforce_critical):
    deployment = sample("deployment_nginx.json")
    template = deployment["request"]["object"]["spec"]["template"]
    body = sample("deployment_nginx.json")
    body["request"]["kind"] = {"group": "batch", "version": "v1", "kind": "CronJob"}
    body["request"]["object"] = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template}}},
    }
    assert answer_of(post_review(client, body))["allowed"] is False


def test_a_review_without_a_pod_spec_is_allowed(client, vulnerable, enforce_critical):
    answer = answer_of(post_review(client, sample("scale_deployment.json")))
    assert answer == {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "allowed": True}


def test_kev_and_epss_rules_read_threat_intel(
    client, vulnerable, django_capture_on_commit_callbacks
):
    AdmissionPolicy.objects.create(name="kev", min_severity="unknown", kev=True)
    AdmissionPolicy.objects.create(name="epss", min_severity="unknown", min_epss=0.5, mode="warn")
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is True
    vulnerability = Vulnerability.objects.get(pk="CVE-2024-6119")
    with django_capture_on_commit_callbacks(execute=True):
        ThreatIntel.objects.create(vulnerability=vulnerability, kev=True, epss_score=0.91)
    answer = answer_of(post_review(client, body))  # the save moved the cache generation
    assert answer["allowed"] is False
    assert "CVE-2024-6119 (critical, KEV)" in answer["status"]["message"]
    assert "(admission policy kev)" in answer["status"]["message"]


def test_the_fix_age_rule_waits_until_a_fix_is_old_enough(
    client, vulnerable, django_capture_on_commit_callbacks
):
    Finding.objects.update(fixable_since=timezone.now() - timedelta(days=2))
    AdmissionPolicy.objects.create(
        name="old-fixes", min_severity="high", fix_available=True, fix_grace_days=14
    )
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is True
    Finding.objects.update(fixable_since=timezone.now() - timedelta(days=15))
    with django_capture_on_commit_callbacks(execute=True):
        AdmissionPolicy.objects.get(name="old-fixes").save()  # any edit refreshes the cache
    assert answer_of(post_review(client, body))["allowed"] is False


def test_a_namespace_glob_limits_a_policy(client, vulnerable):
    AdmissionPolicy.objects.create(name="prod", min_severity="critical", namespace_glob="prod-*")
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is True  # namespace "default"
    body["request"]["namespace"] = "prod-eu"
    assert answer_of(post_review(client, body))["allowed"] is False


def test_an_allowed_pod_is_recorded_in_the_inventory_unless_it_is_a_dry_run(client, vulnerable):
    answer_of(post_review(client, sample("pod_alpine_3_10.json"), path=f"{URL}/prod-eu"))
    row = RunningImage.objects.get()
    assert (row.cluster, row.namespace, row.kind, row.name, row.container) == (
        "prod-eu",
        "default",
        "Pod",
        "debug",
        "debug",
    )
    assert row.source == "admission" and row.digest == digest(310)
    assert row.image == vulnerable["alpine"].image
    answer_of(post_review(client, sample("deployment_nginx.json")))  # dryRun: true
    assert RunningImage.objects.count() == 1


def test_with_a_write_delay_decisions_are_written_in_one_batch_later(client, vulnerable, settings):
    from remediator.engine.admission.buffer import BUFFER

    settings.ADMISSION_WRITE_DELAY_SECONDS = 3600  # the writer thread will not wake in this test
    body = sample("pod_alpine_3_10.json")
    for _ in range(3):
        assert answer_of(post_review(client, body))["allowed"] is True
    assert not AuditEvent.objects.filter(kind="admission").exists()  # nothing written yet
    BUFFER.flush()  # what the writer thread (and process exit) does
    assert AuditEvent.objects.filter(kind="admission").count() == 3
    assert RunningImage.objects.count() == 1  # the same container, coalesced


def test_an_imported_kev_catalogue_reaches_the_cached_answers(client, vulnerable, tmp_path):
    """The import writes in bulk (no post_save): it moves the cache generation itself."""
    AdmissionPolicy.objects.create(name="kev", min_severity="unknown", kev=True)
    body = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, body))["allowed"] is True  # now cached
    catalogue = {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2026.11.30",
        "dateReleased": "2026-11-30T15:00:00.0000Z",
        "count": 1,
        "vulnerabilities": [
            {
                "cveID": "CVE-2024-6119",
                "vendorProject": "OpenSSL",
                "product": "OpenSSL",
                "vulnerabilityName": "OpenSSL Type Confusion Vulnerability",
                "dateAdded": "2026-11-30",
                "shortDescription": "A test entry.",
                "requiredAction": "Apply updates per vendor instructions.",
                "dueDate": "2026-12-21",
                "knownRansomwareCampaignUse": "Unknown",
                "notes": "",
                "cwes": ["CWE-843"],
            }
        ],
    }
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(catalogue))

    threat_intel_import(kev=str(path))

    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is False
    assert "CVE-2024-6119 (critical, KEV)" in answer["status"]["message"]
