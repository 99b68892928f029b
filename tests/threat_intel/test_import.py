"""``threat_intel_import``: files and URLs into ThreatIntel, all or nothing per file."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest
from django.core.management import CommandError, call_command

from findings.models import ThreatIntel
from remediator.engine.models import AuditEvent

from .test_parse import EPSS, KEV

pytestmark = pytest.mark.django_db


def _run(*args: str) -> list[dict]:
    from io import StringIO

    out = StringIO()
    call_command("threat_intel_import", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_files_are_imported_and_a_second_import_changes_nothing(tmp_path):
    gz = tmp_path / "epss.csv.gz"
    gz.write_bytes(gzip.compress(EPSS.read_bytes()))
    first = _run("--epss", str(gz), "--kev", str(KEV))
    assert [(r["feed"], r["imported"], r["skipped"]) for r in first] == [
        ("epss", 135, 0),
        ("kev", 6, 0),
    ]
    heartbleed = ThreatIntel.objects.get(pk="CVE-2014-0160")
    assert heartbleed.epss_score == 0.99999 and heartbleed.epss_date == date(2026, 9, 29)
    assert heartbleed.kev and heartbleed.kev_due_date == date(2022, 5, 25)
    log4shell = ThreatIntel.objects.get(pk="CVE-2021-44228")
    assert log4shell.kev and log4shell.epss_score is None  # not in the EPSS excerpt
    assert ThreatIntel.objects.count() == 135 + 5  # CVE-2014-0160 is in both
    _run("--epss", str(gz), "--kev", str(KEV))
    assert ThreatIntel.objects.count() == 140
    assert AuditEvent.objects.filter(kind="config", message__startswith="kev 2025.08.25").exists()


def test_a_cve_dropped_from_the_next_file_loses_its_score_and_listing(tmp_path):
    _run("--epss", str(EPSS), "--kev", str(KEV))
    newer = tmp_path / "epss.csv"
    newer.write_text(
        "#model_version:v2026.06.15,score_date:2026-09-30T12:00:00Z\n"
        "cve,epss,percentile\nCVE-2014-0160,0.9,0.99\n"
    )
    catalog = json.loads(KEV.read_bytes())
    catalog["vulnerabilities"] = [
        v for v in catalog["vulnerabilities"] if v["cveID"] != "CVE-2020-15999"
    ]
    catalog["count"] = 5
    smaller = tmp_path / "kev.json"
    smaller.write_text(json.dumps(catalog))
    # Both shrink past THREAT_INTEL_MIN_RETAINED, which refuses them unless forced.
    epss, kev = _run("--epss", str(newer), "--kev", str(smaller), "--force")
    assert (epss["cleared"], kev["cleared"]) == (134, 1)
    assert (epss["forced"], kev["forced"]) == ("shrunk", "shrunk")
    assert ThreatIntel.objects.get(pk="CVE-2014-0054").epss_score is None
    assert ThreatIntel.objects.get(pk="CVE-2014-0160").epss_score == 0.9
    dropped = ThreatIntel.objects.get(pk="CVE-2020-15999")
    assert not dropped.kev and dropped.kev_due_date is None


def test_a_file_broken_halfway_imports_nothing(tmp_path):
    good = "".join(f"CVE-2099-{n:05d},0.1,0.5\n" for n in range(12_000))
    data = gzip.compress(f"cve,epss,percentile\n{good}".encode())
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(data[: len(data) - 100])  # truncated: the end of the gzip is missing
    with pytest.raises(CommandError, match="gzip"):
        _run("--epss", str(broken))
    assert not ThreatIntel.objects.exists()  # the batches written before the error rolled back


def test_a_file_with_no_readable_row_is_an_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("cve,epss,percentile\nnope,2,3\n")
    with pytest.raises(CommandError, match="no score could be read"):
        _run("--epss", str(bad))


def test_a_missing_file_or_no_argument_is_an_error():
    with pytest.raises(CommandError, match="No such file"):
        _run("--kev", "/nonexistent/kev.json")
    with pytest.raises(CommandError, match="--epss and/or --kev"):
        _run()


def test_urls_are_downloaded_from_a_local_server(httpserver):
    httpserver.expect_request("/epss_scores-current.csv.gz").respond_with_data(
        gzip.compress(EPSS.read_bytes()), content_type="application/gzip"
    )
    httpserver.expect_request("/feeds/known_exploited_vulnerabilities.json").respond_with_data(
        KEV.read_bytes(), content_type="application/json"
    )
    results = _run(
        "--epss",
        httpserver.url_for("/epss_scores-current.csv.gz"),
        "--kev",
        httpserver.url_for("/feeds/known_exploited_vulnerabilities.json"),
    )
    assert [r["imported"] for r in results] == [135, 6]
    assert ThreatIntel.objects.get(pk="CVE-2023-4863").kev
    calls = AuditEvent.objects.filter(kind="provider_call", actor_label="provider:threat_intel")
    assert calls.count() == 2


def test_a_url_that_answers_an_error_imports_nothing(httpserver, settings):
    settings.PROVIDER_RETRIES = 0
    httpserver.expect_request("/kev.json").respond_with_data("gone", status=404)
    with pytest.raises(CommandError, match="answered 404"):
        _run("--kev", httpserver.url_for("/kev.json"))
    assert not ThreatIntel.objects.exists()


def test_a_plain_http_url_to_another_host_is_refused():
    with pytest.raises(CommandError, match="must use https"):
        _run("--kev", "http://kev.example.org/known_exploited_vulnerabilities.json")


def test_the_beat_task_imports_from_the_configured_urls(httpserver, settings):
    from remediator.engine.tasks import threat_intel_refresh_task

    httpserver.expect_request("/kev.json").respond_with_data(KEV.read_bytes())
    settings.EPSS_URL = ""
    settings.KEV_URL = httpserver.url_for("/kev.json")
    assert [r["feed"] for r in threat_intel_refresh_task()] == ["kev"]
    assert ThreatIntel.objects.filter(kev=True).count() == 6
