"""Every column ingest writes holds what the report said: findings, vulnerabilities and
witnesses as first inserted, as a newer scan updates them, and as a late scan leaves them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from findings.ingest import scan_ingest
from findings.models import Finding, FindingWitness, Vulnerability

from .factories import ALPINE, delivery, finding, report

pytestmark = pytest.mark.django_db
PUBLISHED = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def ingest(*findings, day: int):
    return scan_ingest(parsed=report(*findings, day=day), image=ALPINE, delivery=delivery())


def at(day: int) -> datetime:
    return datetime(2026, 11, day, 12, 0, tzinfo=UTC)


def columns(row, names: str) -> dict:
    return {name: getattr(row, name) for name in names.split()}


CONTENT = (
    "package_type severity severity_rank fixed_version fixable cvss_score vendor_status locations"
)
DETAILS = "title description severity cvss_score cvss_vector links published_at"


def test_a_new_finding_stores_every_column_the_report_and_its_scan_give():
    first = ingest(
        finding(
            "CVE-2026-1",
            "openssl",
            installed_version="3.1.0-r0",
            package_type="apk",
            severity="critical",
            fixed_versions=("3.1.1-r0", "3.2.0-r0"),
            cvss_score=9.1,
            vendor_status="fixed",
            locations=("/usr/lib/libssl.so.3", "/usr/lib/libcrypto.so.3"),
        ),
        day=2,
    )

    stored = Finding.objects.get()
    assert columns(stored, f"vulnerability_id package installed_version {CONTENT}") == {
        "vulnerability_id": "CVE-2026-1",
        "package": "openssl",
        "installed_version": "3.1.0-r0",
        "package_type": "apk",
        "severity": "critical",
        "severity_rank": 5,
        "fixed_version": "3.1.1-r0, 3.2.0-r0",
        "fixable": True,
        "cvss_score": 9.1,
        "vendor_status": "fixed",
        "locations": ["/usr/lib/libssl.so.3", "/usr/lib/libcrypto.so.3"],
    }
    assert columns(
        stored,
        "repository_id tag_id status status_reason first_seen last_seen first_scan_id "
        "last_scan_id fixable_since fixed_at fixed_by_scan_id reopened_count",
    ) == {
        "repository_id": first.scan.image.repository_id,
        "tag_id": first.scan.tag_id,
        "status": "open",
        "status_reason": "",
        "first_seen": at(2),
        "last_seen": at(2),
        "first_scan_id": first.scan.pk,
        "last_scan_id": first.scan.pk,
        "fixable_since": at(2),
        "fixed_at": None,
        "fixed_by_scan_id": None,
        "reopened_count": 0,
    }
    witness = FindingWitness.objects.get()
    assert columns(
        witness, "finding_id scanner_key scanner first_scan_id last_scan_id present"
    ) == {
        "finding_id": stored.pk,
        "scanner_key": first.scan.scanner_key,
        "scanner": first.scan.scanner,
        "first_scan_id": first.scan.pk,
        "last_scan_id": first.scan.pk,
        "present": True,
    }
    assert witness.absent_since_scan_id is None


def test_a_newer_scan_rewrites_the_content_and_a_late_one_leaves_it():
    ingest(finding("CVE-2026-1", package_type="", severity="low"), day=2)
    newer = ingest(
        finding(
            "CVE-2026-1",
            package_type="apk",
            severity="high",
            fixed_versions=("3.1.1-r0",),
            cvss_score=7.5,
            vendor_status="fixed",
            locations=("/lib/libssl.so.3",),
        ),
        day=4,
    )
    after_newer = Finding.objects.get()
    ingest(finding("CVE-2026-1", package_type="", severity="medium"), day=3)

    stored = Finding.objects.get()
    assert columns(stored, CONTENT) == {
        "package_type": "apk",
        "severity": "high",
        "severity_rank": 4,
        "fixed_version": "3.1.1-r0",
        "fixable": True,
        "cvss_score": 7.5,
        "vendor_status": "fixed",
        "locations": ["/lib/libssl.so.3"],
    }
    assert columns(stored, CONTENT) == columns(after_newer, CONTENT)
    assert (stored.fixable_since, stored.first_seen) == (at(4), at(2))
    assert stored.last_scan_id != newer.scan.pk  # its stream head carries the sighting
    assert Finding.objects.with_last_seen().get().seen_scan_id == newer.scan.pk


def test_a_late_scan_that_lists_a_finding_first_moves_its_first_sighting_back():
    ingest(finding("CVE-2026-1"), day=5)
    ingest(finding("CVE-2026-1"), day=3)

    assert Finding.objects.get().first_seen == at(3)


def test_an_unknown_package_type_keeps_the_known_one():
    ingest(finding("CVE-2026-1", package_type="apk"), day=2)
    ingest(finding("CVE-2026-1", package_type=""), day=3)

    assert Finding.objects.get().package_type == "apk"


def test_a_finding_listed_again_after_it_was_fixed_moves_its_last_sighting():
    ingest(finding("CVE-2026-1"), finding("CVE-2026-2", "zlib"), day=2)
    ingest(finding("CVE-2026-2", "zlib"), day=3)
    back = ingest(finding("CVE-2026-1", severity="critical"), finding("CVE-2026-2", "zlib"), day=4)

    again = Finding.objects.get(vulnerability_id="CVE-2026-1")
    assert (again.status, again.reopened_count) == ("open", 1)
    assert (again.last_scan_id, again.last_seen) == (back.scan.pk, at(4))
    assert again.severity == "critical"
    assert Finding.objects.get(vulnerability_id="CVE-2026-2").last_scan_id != back.scan.pk


def test_a_vulnerability_stores_its_details_and_their_hash():
    ingest(
        finding(
            "CVE-2026-1",
            title="Heap overflow in X",
            description="A long story.",
            severity="high",
            cvss_score=8.1,
            cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
            links=("https://example.org/CVE-2026-1", "javascript:alert(1)"),
            published_at=PUBLISHED,
        ),
        day=2,
    )

    vuln = Vulnerability.objects.get()
    assert columns(vuln, f"id {DETAILS}") == {
        "id": "CVE-2026-1",
        "title": "Heap overflow in X",
        "description": "A long story.",
        "severity": "high",
        "cvss_score": 8.1,
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N",
        "links": ["https://example.org/CVE-2026-1"],
        "published_at": PUBLISHED,
    }
    # The hash of these details as earlier releases stored it: the same details in a
    # later report must find it unchanged, so that no stored row is written again.
    assert vuln.content_hash == "ce6c8762a98e333ed63c39785d47c290"
    assert vuln.updated_at is not None


def test_a_vulnerability_is_merged_field_by_field_and_rewritten_only_when_it_changes():
    ingest(finding("CVE-2026-1", title="Overflow", severity="medium", cvss_score=5.0), day=2)
    first = Vulnerability.objects.get()
    ingest(finding("CVE-2026-1", title="Overflow", severity="medium", cvss_score=5.0), day=3)
    assert Vulnerability.objects.get().updated_at == first.updated_at

    later = {
        "title": "Another title",
        "description": "Filled in.",
        "severity": "low",
        "cvss_score": None,
        "cvss_vector": "CVSS:3.1/AV:L",
        "published_at": PUBLISHED,
    }
    ingest(finding("CVE-2026-1", links=("https://example.org/a",), **later), day=4)

    merged = Vulnerability.objects.get()
    assert columns(merged, DETAILS) == {
        **later,  # its blanks filled from the later report,
        "title": "Overflow",  # what it had kept,
        "cvss_score": 5.0,
        "severity": "medium",  # the worse severity of the two
        "links": ["https://example.org/a"],
    }
    assert merged.updated_at > first.updated_at
    assert merged.content_hash != first.content_hash


def test_a_vulnerability_said_otherwise_with_the_same_details_is_not_rewritten():
    said = {"title": "Overflow", "severity": "medium", "links": ("https://example.org/a",)}
    ingest(finding("CVE-2026-1", **said), day=2)
    first = Vulnerability.objects.get()
    assert first.report_hash

    # A link the details leave out (not a web link): what was said differs, the details not.
    otherwise = {**said, "links": ("https://example.org/a", "javascript:alert(1)")}
    ingest(finding("CVE-2026-1", **otherwise), day=3)

    kept = Vulnerability.objects.get()
    assert columns(kept, f"{DETAILS} content_hash updated_at") == columns(
        first, f"{DETAILS} content_hash updated_at"
    )
    assert kept.report_hash not in ("", first.report_hash)


def test_a_vulnerability_stored_without_a_report_hash_keeps_its_details_and_gains_one():
    details = {"title": "Overflow", "severity": "medium", "cvss_score": 5.0}
    ingest(finding("CVE-2026-1", **details), day=2)
    Vulnerability.objects.update(report_hash="")  # as rows stored before the column were
    first = Vulnerability.objects.get()

    ingest(finding("CVE-2026-1", **details), day=3)

    kept = Vulnerability.objects.get()
    assert columns(kept, f"{DETAILS} content_hash updated_at") == columns(
        first, f"{DETAILS} content_hash updated_at"
    )
    assert kept.report_hash


def test_one_vulnerability_listed_by_several_findings_merges_what_each_says():
    ingest(
        finding("CVE-2026-1", "openssl", title="", severity="low"),
        finding("CVE-2026-1", "libssl", title="Overflow", severity="critical"),
        finding("CVE-2026-1", "libcrypto", title="", severity="low"),
        day=2,
    )

    assert columns(Vulnerability.objects.get(), "title severity") == {
        "title": "Overflow",
        "severity": "critical",
    }
