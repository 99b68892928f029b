"""When is a finding fixed? Only on evidence: a table of real-life scan sequences.

Every step is a generic-format report stored and processed as the webhook does
(no database mocks). A finding is written "CVE pkg" (package type deb) or
"CVE pkg ?" (the scanner does not know the ecosystem).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from findings.ingest import IngestResult
from findings.models import Finding, FindingWitness, Scan, Tag
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

pytestmark = pytest.mark.django_db
REPO = "registry.example.com/shop/api"


@dataclass(frozen=True)
class Step:
    scanner: str
    day: int
    findings: tuple[str, ...] = ()
    tag: str = "1.0"
    digest: str = "a"
    status: str = ""


@dataclass(frozen=True)
class Expect:
    status: dict[str, str]
    """"CVE@tag" -> status."""
    fixed_by_step: dict[str, int] = field(default_factory=dict)
    """"CVE@tag" -> index of the step whose scan proved the fix."""
    reopened: dict[str, int] = field(default_factory=dict)
    findings: int | None = None


def _finding(text: str) -> dict:
    cve, package, *unknown = text.split()
    return {
        "id": cve,
        "package": package,
        "version": "1.0-1",
        "severity": "high",
        "fixedVersion": "1.0-2",
        "packageType": "" if unknown else "deb",
    }


def run(step: Step) -> IngestResult:
    body = {
        "imageName": f"{REPO}:{step.tag}",
        "digest": "sha256:" + step.digest * 64,
        "scanner": step.scanner,
        "scannedAt": f"2026-11-{step.day:02d}T12:00:00Z",
        "findings": [_finding(f) for f in step.findings],
    }
    if step.status:
        body["status"] = step.status
    delivery, _ = delivery_store(source="generic", body=json.dumps(body).encode(), channel="cli")
    return delivery_process(delivery=delivery)


def finding(label: str) -> Finding:
    cve, _, tag = label.partition("@")
    return Finding.objects.get(vulnerability_id=cve, tag__name=tag or "1.0")


AQUA, TRIVY, TRIVY_NEW = "Aqua", "Trivy 0.56.2", "Trivy 0.57.0"

CASES = {
    "two scanners disagree: the one that never saw CVE-A cannot close it": (
        [
            Step(AQUA, 1, ("CVE-A openssl", "CVE-B zlib")),
            Step(TRIVY, 2, ("CVE-B zlib ?",)),
        ],
        Expect({"CVE-A": "open", "CVE-B": "open"}, findings=2),
    ),
    "the scanner that saw it closes it, naming its scan": (
        [
            Step(AQUA, 1, ("CVE-A openssl",)),
            Step(TRIVY, 2),
            Step(AQUA, 3),
        ],
        Expect({"CVE-A": "fixed"}, fixed_by_step={"CVE-A": 2}),
    ),
    "two witnesses: fixed only when both newest scans lack it": (
        [
            Step(AQUA, 1, ("CVE-A openssl",)),
            Step(TRIVY, 1, ("CVE-A openssl ?",)),
            Step(TRIVY, 2),
        ],
        Expect({"CVE-A": "open"}, findings=1),
    ),
    "two witnesses, both newest scans lack it": (
        [
            Step(AQUA, 1, ("CVE-A openssl",)),
            Step(TRIVY, 1, ("CVE-A openssl",)),
            Step(TRIVY, 2),
            Step(AQUA, 3),
        ],
        Expect({"CVE-A": "fixed"}, fixed_by_step={"CVE-A": 3}),
    ),
    "a failed scan closes nothing": (
        [
            Step(TRIVY, 1, ("CVE-A openssl",)),
            Step(TRIVY, 2, status="Failed"),
        ],
        Expect({"CVE-A": "open"}),
    ),
    "an empty successful scan is evidence": (
        [
            Step(TRIVY, 1, ("CVE-A openssl",)),
            Step(TRIVY, 2, status="Success"),
        ],
        Expect({"CVE-A": "fixed"}, fixed_by_step={"CVE-A": 1}),
    ),
    "a late retry of an older scan changes no status": (
        [
            Step(TRIVY, 3, ("CVE-A openssl",)),
            Step(TRIVY, 2),
        ],
        Expect({"CVE-A": "open"}),
    ),
    "a finding only in a late retry is fixed by the scanner's newer scan": (
        [
            Step(TRIVY, 3, ("CVE-A openssl",)),
            Step(TRIVY, 2, ("CVE-A openssl", "CVE-B zlib")),
        ],
        Expect({"CVE-A": "open", "CVE-B": "fixed"}, fixed_by_step={"CVE-B": 0}),
    ),
    "fixed, then seen again: reopened and counted": (
        [
            Step(TRIVY, 1, ("CVE-A openssl",)),
            Step(TRIVY, 2),
            Step(TRIVY, 3, ("CVE-A openssl",)),
        ],
        Expect({"CVE-A": "open"}, reopened={"CVE-A": 1}),
    ),
    "an upgraded scanner is the same witness": (
        [
            Step(TRIVY, 1, ("CVE-A openssl",)),
            Step(TRIVY_NEW, 2),
        ],
        Expect({"CVE-A": "fixed"}, fixed_by_step={"CVE-A": 1}),
    ),
    "the tag moves to a rebuilt digest without the CVE": (
        [
            Step(TRIVY, 1, ("CVE-A openssl", "CVE-B zlib"), digest="a"),
            Step(TRIVY, 2, ("CVE-B zlib",), digest="b"),
        ],
        Expect({"CVE-A": "fixed", "CVE-B": "open"}, fixed_by_step={"CVE-A": 1}),
    ),
    "another tag of the same repository is its own stream": (
        [
            Step(TRIVY, 1, ("CVE-A openssl",), tag="1.0"),
            Step(TRIVY, 2, (), tag="2.0"),
        ],
        Expect({"CVE-A@1.0": "open"}),
    ),
    "an unknown package type is the same finding as a known one; the known one wins": (
        [
            Step(TRIVY, 1, ("CVE-A openssl ?",)),
            Step(AQUA, 2, ("CVE-A openssl",)),
        ],
        Expect({"CVE-A": "open"}, findings=1),
    ),
}


@pytest.mark.parametrize("steps, expect", CASES.values(), ids=CASES.keys())
def test_a_finding_is_fixed_only_on_evidence(steps: list[Step], expect: Expect):
    scans = [run(step).scan for step in steps]

    for label, status in expect.status.items():
        assert finding(label).status == status, label
    for label, index in expect.fixed_by_step.items():
        assert finding(label).fixed_by_scan_id == scans[index].pk, label
    for label, count in expect.reopened.items():
        assert finding(label).reopened_count == count, label
    if expect.findings is not None:
        assert Finding.objects.count() == expect.findings


def test_the_known_package_type_wins_and_both_scanners_are_witnesses():
    run(Step(TRIVY, 1, ("CVE-A openssl ?",)))
    run(Step(AQUA, 2, ("CVE-A openssl",)))

    found = finding("CVE-A")
    assert found.package_type == "deb"
    assert set(found.witnesses.values_list("scanner_key", "present")) == {
        ("generic:trivy", True),
        ("generic:aqua", True),
    }


def test_a_failed_scan_is_stored_and_says_why():
    run(Step(TRIVY, 1, ("CVE-A openssl",)))
    result = run(Step(TRIVY, 2, ("CVE-B zlib",), status="error"))

    scan = Scan.objects.get(pk=result.scan.pk)
    assert scan.failed and "'error'" in scan.failure
    assert result.as_dict()["failed"] == scan.failure
    assert not Finding.objects.filter(vulnerability_id="CVE-B").exists()
    assert Tag.objects.get(name="1.0").latest_scan_id != scan.pk


def test_a_witness_records_the_scan_that_no_longer_listed_it():
    first = run(Step(TRIVY, 1, ("CVE-A openssl",))).scan
    second = run(Step(TRIVY, 2)).scan

    witness = FindingWitness.objects.get(finding=finding("CVE-A"))
    assert (witness.first_scan_id, witness.last_scan_id) == (first.pk, first.pk)
    assert not witness.present and witness.absent_since_scan_id == second.pk


def test_rejected_for_no_image_then_sent_with_one_is_processed():
    body = json.dumps({"findings": [_finding("CVE-A openssl")]}).encode()
    rejected, _ = delivery_store(source="generic", body=body, channel="cli")
    with pytest.raises(Exception, match="names no image"):
        delivery_process(delivery=rejected)

    again, created = delivery_store(
        source="generic", body=body, channel="webhook", image_hint=f"{REPO}:1.0"
    )
    result = delivery_process(delivery=again)

    assert created and again.pk == rejected.pk
    assert again.status == "processed" and result.findings == 1
    assert "names no image; name it with ?image=" in again.headers["resent"][0]["rejected_for"]


def test_the_same_bytes_under_another_source_slug_are_one_report():
    body = json.dumps(
        {"imageName": f"{REPO}:1.0", "findings": [_finding("CVE-A openssl")]}
    ).encode()
    first, _ = delivery_store(source="generic", body=body, channel="webhook")
    delivery_process(delivery=first)
    again, created = delivery_store(source="auto", body=body, channel="cli")

    assert not created and again.pk == first.pk
    assert Scan.objects.count() == 1
