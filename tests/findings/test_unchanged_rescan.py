"""An unchanged re-scan (the same findings as its scanner's newest scan of the tag) is
not parsed past its head and writes a handful of rows (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from findings.models import Finding, FindingWitness, Scan
from findings.selectors.seen import scan_finding_ids
from remediator.intake import recognise
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

pytestmark = pytest.mark.django_db
FIXTURE = (
    Path(__file__).parent.parent / "fixtures" / "trivy" / "trivy_docs_reporting_alpine_latest.json"
)


def body(created: str, *, drop: int = 0) -> bytes:
    document = json.loads(FIXTURE.read_bytes())
    document["CreatedAt"] = created
    for result in document.get("Results") or []:
        vulns = result.get("Vulnerabilities") or []
        del vulns[: min(drop, len(vulns))]
        drop -= min(drop, len(vulns))
    return json.dumps(document).encode()


def ingest(raw: bytes):
    delivery, _ = delivery_store(source="trivy", body=raw, channel="cli")
    return delivery_process(delivery=delivery)


def test_the_same_findings_again_take_the_newest_scans_set_without_a_parse(monkeypatch):
    first = ingest(body("2026-01-01T00:00:00Z"))
    before = (list(Finding.objects.values()), list(FindingWitness.objects.values()))

    def refuse(*args, **kwargs):
        raise AssertionError("the findings were parsed")

    monkeypatch.setattr(recognise, "parse_all", refuse)
    again = ingest(body("2026-01-02T00:00:00Z"))

    assert again.findings == first.findings > 0 and again.scan.pk != first.scan.pk
    assert scan_finding_ids(again.scan.pk) == scan_finding_ids(first.scan.pk)
    assert again.scan.severity_counts == first.scan.severity_counts
    assert (list(Finding.objects.values()), list(FindingWitness.objects.values())) == before
    assert {f.seen_scan_id for f in Finding.objects.with_last_seen()} == {again.scan.pk}


def test_changed_findings_or_a_late_retry_are_parsed_and_ingested_in_full():
    ingest(body("2026-01-02T00:00:00Z"))
    late = ingest(body("2026-01-01T00:00:00Z"))  # older than the newest: superseded
    assert Scan.objects.get(pk=late.scan.pk).superseded

    changed = ingest(body("2026-01-03T00:00:00Z", drop=1))
    assert changed.fixed == 1 and changed.findings == late.findings - 1
