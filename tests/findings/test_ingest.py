from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.ingest import scan_ingest
from findings.models import Finding, FindingWitness, Image, Scan, Tag, Vulnerability
from findings.parsers.base import ImageRef, ParsedScan
from findings.parsers.images import parse_image_reference
from findings.selectors.seen import scan_finding_ids

from .factories import ALPINE, delivery, finding, report

pytestmark = pytest.mark.django_db


def ingest(parsed, image: ImageRef = ALPINE):
    return scan_ingest(parsed=parsed, image=image, delivery=delivery())


def test_first_scan_creates_open_findings_image_tag_and_vulnerabilities():
    result = ingest(
        report(finding("CVE-1", fixed_versions=("3.1.1-r0",)), finding("CVE-2", "zlib"))
    )

    assert (result.findings, result.new, result.fixed, result.reopened) == (2, 2, 0, 0)
    assert set(Finding.objects.values_list("status", flat=True)) == {"open"}
    one = Finding.objects.get(vulnerability_id="CVE-1")
    assert one.fixed_version == "3.1.1-r0" and one.fixable
    assert one.severity == "high" and one.severity_rank == 4
    tag = Tag.objects.get()
    assert (tag.name, tag.image.digest, tag.latest_scan) == ("3.19", ALPINE.digest, result.scan)
    assert Vulnerability.objects.count() == 2
    assert result.image == "docker.io/library/alpine:3.19@sha256:" + "a" * 64


def test_same_delivery_ingested_again_returns_the_existing_scan():
    stored = delivery()
    first = scan_ingest(parsed=report(finding()), image=ALPINE, delivery=stored)
    again = scan_ingest(parsed=report(finding()), image=ALPINE, delivery=stored)

    assert again.scan == first.scan and not again.created
    assert (again.new, Scan.objects.count(), Finding.objects.count()) == (0, 1, 1)


def test_repeat_scan_with_same_findings_creates_nothing_new():
    ingest(report(finding("CVE-1"), day=1))
    second = ingest(report(finding("CVE-1"), day=2))

    assert (second.new, second.fixed, second.reopened) == (0, 0, 0)
    only = Finding.objects.with_last_seen().get()
    assert only.status == "open" and only.seen_scan_id == second.scan.pk
    assert only.first_seen.day == 1 and only.seen_at.day == 2


def test_an_unchanged_rescan_rewrites_no_finding_or_witness_row():
    ingest(report(finding("CVE-1"), finding("CVE-2"), day=1))
    before = (list(Finding.objects.values()), list(FindingWitness.objects.values()))
    with CaptureQueriesContext(connection) as ctx:
        second = ingest(report(finding("CVE-1"), finding("CVE-2"), day=2))

    def writes(table: str) -> list[str]:
        return [
            q["sql"] for q in ctx.captured_queries
            if q["sql"].startswith(("UPDATE", "INSERT")) and f'"{table}"' in q["sql"][:40]
        ]  # fmt: skip

    # Only the closing statement (which matches no row here) touches findings.
    assert [sql for sql in writes("findings_finding") if "fixed_by_scan_id" not in sql] == []
    assert writes("findings_findingwitness") == []
    assert (list(Finding.objects.values()), list(FindingWitness.objects.values())) == before
    assert {f.seen_scan_id for f in Finding.objects.with_last_seen()} == {second.scan.pk}


def test_finding_absent_from_a_newer_scan_is_fixed_by_that_scan():
    ingest(report(finding("CVE-1"), finding("CVE-2"), day=1))
    newer = ingest(report(finding("CVE-2"), day=2))

    assert newer.fixed == 1
    gone = Finding.objects.get(vulnerability_id="CVE-1")
    assert gone.status == "fixed" and gone.fixed_by_scan == newer.scan
    assert gone.fixed_at == newer.scan.scanned_at
    assert Finding.objects.get(vulnerability_id="CVE-2").status == "open"


def test_fixed_finding_that_comes_back_is_reopened_and_counted():
    ingest(report(finding("CVE-1"), day=1))
    ingest(report(day=2))
    back = ingest(report(finding("CVE-1"), day=3))

    assert (back.new, back.reopened) == (0, 1)
    again = Finding.objects.get()
    assert again.status == "open" and again.reopened_count == 1
    assert again.fixed_by_scan is None and again.reopened_at.day == 3


def test_older_scan_arriving_late_changes_no_status():
    ingest(report(finding("CVE-1"), day=1))
    newest = ingest(report(finding("CVE-2"), day=3))
    late = ingest(report(finding("CVE-1"), finding("CVE-3"), day=2))

    assert late.scan.superseded and late.fixed == 0 and late.reopened == 0
    status = dict(Finding.objects.values_list("vulnerability_id", "status"))
    assert status == {"CVE-1": "fixed", "CVE-2": "open", "CVE-3": "fixed"}
    assert Tag.objects.get().latest_scan == newest.scan
    late_only = Finding.objects.get(vulnerability_id="CVE-3")
    assert late_only.fixed_by_scan == newest.scan


def test_tag_streams_are_independent():
    ingest(report(finding("CVE-1"), day=1))
    other_tag = ImageRef("docker.io", "library/alpine", "3.20", "sha256:" + "b" * 64)
    ingest(report(day=2, image=other_tag), image=other_tag)

    assert Finding.objects.get().status == "open"
    assert Image.objects.count() == 2


def test_a_new_digest_moves_the_tag():
    ingest(report(finding("CVE-1"), day=1))
    rebuilt = ImageRef("docker.io", "library/alpine", "3.19", "sha256:" + "c" * 64)
    result = ingest(report(day=2, image=rebuilt), image=rebuilt)

    assert Tag.objects.get().image.digest == rebuilt.digest
    assert result.fixed == 1


def test_each_scan_lists_exactly_the_findings_it_saw():
    first = ingest(report(finding("CVE-1"), finding("CVE-2"), day=1))
    second = ingest(report(finding("CVE-2"), day=2))

    def seen(scan):
        rows = Finding.objects.filter(pk__in=scan_finding_ids(scan.pk))
        return set(rows.values_list("vulnerability_id", flat=True))

    assert seen(first.scan) == {"CVE-1", "CVE-2"}
    assert seen(second.scan) == {"CVE-2"}


def test_vulnerability_details_are_filled_not_overwritten_with_blanks():
    ingest(report(finding("CVE-1", description="Heap overflow", cvss_score=9.8), day=1))
    ingest(report(finding("CVE-1", description="", severity="critical"), day=2))

    vuln = Vulnerability.objects.get()
    assert vuln.description == "Heap overflow" and vuln.cvss_score == 9.8
    assert vuln.severity == "critical"


def _queries_for(n: int, day: int) -> int:
    image = ImageRef("docker.io", f"acme/app{n}", "1", "")
    many = [finding(f"CVE-2026-{i:05d}", f"pkg{i}", fixed_versions=("2",)) for i in range(n)]
    ingest(report(*many, day=day, image=image), image=image)  # first: all new
    with CaptureQueriesContext(connection) as ctx:
        ingest(report(*many[: n // 2], day=day + 1, image=image), image=image)
    return len(ctx.captured_queries)


def test_queries_per_report_do_not_grow_with_the_number_of_findings():
    assert _queries_for(10, 1) == _queries_for(1000, 3)


def test_first_ingest_query_count_does_not_grow_either():
    def first(n: int) -> int:
        image = ImageRef("docker.io", f"acme/new{n}", "1", "")
        many = [finding(f"CVE-2025-{i:05d}", f"p{i}") for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            ingest(report(*many, image=image), image=image)
        return len(ctx.captured_queries)

    assert first(5) == first(800)


def test_rescan_of_a_large_report_updates_every_finding():
    """Rescans write changed rows with one upsert: bulk_update's CASE WHEN grew
    quadratically (160 s for 5,000 findings) and overflowed SQLite's variable limit
    at 20,000 (see bench/ingest.py)."""
    image = ImageRef("docker.io", "acme/big", "1", "")
    many = [finding(f"CVE-2026-{i:05d}", f"pkg{i}", fixed_versions=("2",)) for i in range(2500)]
    ingest(report(*many, day=1, image=image), image=image)
    again = ingest(report(*many[:2000], day=2, image=image), image=image)

    assert (again.new, again.fixed) == (0, 500)
    big = Finding.objects.with_last_seen().filter(tag__repository__name="acme/big")
    assert sum(f.seen_scan_id == again.scan.pk for f in big) == 2000
    assert len(scan_finding_ids(again.scan.pk)) == 2000


def _overlong_fields(obj) -> list[str]:
    return [
        field.name
        for field in obj._meta.concrete_fields
        if field.get_internal_type() == "CharField"
        and len(getattr(obj, field.attname) or "") > field.max_length
    ]


def test_every_text_a_report_can_carry_fits_its_column():
    """PostgreSQL refuses an overlong value (SQLite does not): every CharField is clipped."""
    image = parse_image_reference(
        "registry.example.com/" + "a" * 230 + ":" + "t" * 128, digest="sha512:" + "b" * 128
    )
    long = finding(
        "CVE-" + "9" * 150,
        "p" * 400,
        installed_version="v" * 400,
        package_type="t" * 100,
        fixed_versions=("f" * 400,),
        vendor_status="s" * 100,
        title="t" * 1000,
        cvss_vector="CVSS:3.1/" + "x" * 400,
    )
    parsed = ParsedScan(
        source="generic",
        image=image,
        findings=(long,),
        scanner="s" * 200,
        scan_id="i" * 200,
        os="o" * 200,
    )

    result = ingest(parsed, image)

    stored = Finding.objects.get()
    assert stored.vulnerability.pk == stored.vulnerability_id
    rows = [stored, stored.vulnerability, result.scan, stored.tag, stored.tag.image]
    assert [(type(row).__name__, _overlong_fields(row)) for row in rows] == [
        (type(row).__name__, []) for row in rows
    ]
    assert _overlong_fields(stored.repository) == []


def test_only_web_links_are_kept_so_no_report_can_plant_a_script_link():
    ingest(
        report(
            finding(
                links=(
                    "javascript:alert(document.cookie)",
                    " JavaScript:alert(1)",
                    "data:text/html,<script>alert(1)</script>",
                    "https://nvd.nist.gov/vuln/detail/CVE-2024-0001",
                    "http://example.com/advisory",
                    "//evil.example/x",
                    "http://[::1",
                )
            )
        )
    )

    assert Vulnerability.objects.get().links == [
        "https://nvd.nist.gov/vuln/detail/CVE-2024-0001",
        "http://example.com/advisory",
    ]


def test_last_seen_is_live_for_a_finding_a_witness_still_lists():
    """An unchanged re-scan does not write the finding's row, yet it was seen by it:
    reads (API ``since``, CSV, detail) take the scanner's newest scan of the tag."""
    ingest(report(finding("CVE-1"), finding("CVE-2"), day=1))
    third = ingest(report(finding("CVE-1"), day=3))
    ingest(report(finding("CVE-1"), day=5))

    live = {f.vulnerability_id: f for f in Finding.objects.with_last_seen()}
    assert (live["CVE-1"].seen_at.day, live["CVE-2"].seen_at.day) == (5, 1)
    after_two = live["CVE-1"].seen_at.replace(day=2)
    assert {f.vulnerability_id for f in Finding.objects.seen_since(after_two)} == {"CVE-1"}
    assert third.fixed == 1 and live["CVE-2"].status == "fixed"
