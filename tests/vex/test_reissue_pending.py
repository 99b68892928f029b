"""Scans mark digests, beat issues them: the ingest path never builds VEX documents, and
a repository's document keeps ``fixed`` statements only for the digests its tags point
at now."""

from __future__ import annotations

import json

from findings.models import Finding, Scan
from remediator.engine.models import VexDocument, VexReissuePending
from remediator.engine.services.evaluate import scan_evaluate
from remediator.engine.services.risk import finding_mark_false_positive
from remediator.engine.vex.documents import Subject, newest
from remediator.engine.vex.reissue import vex_reissue_pending
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

from .conftest import ALPINE_REPORT, valid_openvex

FIRST = "1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"


def rebuilt(digest_hex: str, *, without: str = "", at: str) -> Scan:
    """alpine:latest scanned again as digest ``digest_hex``, ``without`` one package's
    finding (the rebuild fixed it), at ``at``."""
    report = json.loads(ALPINE_REPORT.read_text())
    report["Metadata"]["RepoDigests"] = [f"alpine@sha256:{digest_hex}"]
    report["CreatedAt"] = at
    for result in report["Results"]:
        result["Vulnerabilities"] = [
            v for v in result.get("Vulnerabilities", []) if v["PkgName"] != without
        ]
    delivery, _ = delivery_store(source="trivy", body=json.dumps(report).encode())
    return delivery_process(delivery=delivery).scan


def statements(subject: Subject) -> list[tuple[str, str]]:
    document = newest(subject.purl)
    assert document is not None
    return sorted(
        (s["status"], s["products"][0]["@id"].split("@")[1].split("?")[0])
        for s in valid_openvex(document.document)["statements"]
    )


def test_a_scan_marks_its_digest_and_beat_issues_its_documents(
    alpine, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        finding_mark_false_positive(
            finding_id=alpine["libcrypto3"].pk, user=people["alice"], reason="not loaded"
        )
    second = "2" * 64
    scan = rebuilt(second, at="2025-01-02T00:00:00Z")
    before = VexDocument.objects.count()

    scan_evaluate(scan_id=scan.pk)

    assert VexDocument.objects.count() == before  # nothing built on the ingest path
    assert list(VexReissuePending.objects.values_list("image_id", flat=True)) == [scan.image_id]

    assert vex_reissue_pending() == 1

    assert not VexReissuePending.objects.exists()
    repository = scan.image.repository
    assert statements(Subject(repository, scan.image)) == [("not_affected", f"sha256:{second}")]
    assert statements(Subject(repository)) == [
        ("not_affected", f"sha256:{FIRST}"),
        ("not_affected", f"sha256:{second}"),
    ]


def test_a_scan_of_a_repository_without_decisions_or_fixes_marks_nothing(alpine):
    scan = rebuilt("3" * 64, at="2025-01-02T00:00:00Z")

    scan_evaluate(scan_id=scan.pk)

    assert not VexReissuePending.objects.exists()
    assert vex_reissue_pending() == 0


def test_fixed_statements_stay_in_the_repository_document_while_a_tag_points_at_the_digest(
    alpine,
):
    fixing = rebuilt("4" * 64, without="libssl3", at="2025-01-02T00:00:00Z")
    scan_evaluate(scan_id=fixing.pk)
    assert Finding.objects.get(pk=alpine["libssl3"].pk).fixed_by_scan_id == fixing.pk
    vex_reissue_pending()
    repository = fixing.image.repository

    assert statements(Subject(repository)) == [("fixed", f"sha256:{'4' * 64}")]

    # the tag moves on to a newer digest: the older digest's fix stays in its own
    # document, and leaves the repository's
    later = rebuilt("5" * 64, without="libssl3", at="2025-01-03T00:00:00Z")
    VexReissuePending.objects.create(image=later.image, marked_at=later.scanned_at)
    vex_reissue_pending()

    assert statements(Subject(repository, fixing.image)) == [("fixed", f"sha256:{'4' * 64}")]
    document = newest(Subject(repository).purl)
    assert document.statements_count == 0
