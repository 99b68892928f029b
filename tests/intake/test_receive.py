"""One way in: the webhook, the command line, the spool replay and Harbor's fetched reports
all receive a body through ``delivery_receive``; a report is parsed once per delivery."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import pytest
from django.core.management import call_command

import findings.parsers as parsers
from findings.models import Delivery, Finding, Scan
from findings.parsers import load_body, parse_all
from remediator.intake.spool import spool_write
from remediator.intake.spool_replay import spool_replay
from remediator.intake.tasks import delivery_process_task

from ..conftest import FIXTURES
from ..webhooks.test_harbor import ZULIP_DIGEST, harbor_fixture, serve_report

pytestmark = pytest.mark.django_db
REFERENCE = f"harbor.xxx.xxxx.com/test/alpine/helm:3.8.1@{ZULIP_DIGEST}"
"""The artifact of tests/fixtures/harbor/zulip_scanning_completed.json."""


def test_the_same_report_by_every_way_in_is_one_delivery_and_one_scan(
    post, harbor, settings, tmp_path
):
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    report = harbor_fixture("dd_harbor_report_clair_5.json")

    posted = post(f"/api/v1/webhooks/harbor/?image={quote(REFERENCE)}", report)
    assert posted.status_code == 202
    first = posted.json()["delivery"]
    assert delivery_process_task.apply(args=[first]).get() == "processed"
    scan = Scan.objects.get()

    path = tmp_path / "report.json"
    path.write_bytes(report)
    out = io.StringIO()
    call_command("ingest", "--source", "harbor", "--image", REFERENCE, str(path), stdout=out)
    summary = json.loads(out.getvalue())
    assert (summary["delivery"], summary["scan"], summary["new"]) == (first, scan.pk, 0)

    spool_write(source="harbor", body=report, image_hint=REFERENCE)
    assert spool_replay().duplicates == [first]

    serve_report(harbor)
    event = post("/api/v1/webhooks/harbor/", harbor_fixture("zulip_scanning_completed.json"))
    assert delivery_process_task.apply(args=[event.json()["delivery"]]).get() == "processed"
    assert Delivery.objects.get(pk=event.json()["delivery"]).headers["report_deliveries"] == [first]

    assert list(Scan.objects.all()) == [scan] and Finding.objects.count() == 5
    assert set(Delivery.objects.values_list("pk", flat=True)) == {first, event.json()["delivery"]}


@pytest.mark.parametrize(
    "source, fixture, image",
    [
        ("trivy", "trivy/trivy_docs_reporting_alpine_latest.json", ""),
        ("aqua", "aqua/dd_vulns_with_aqua_severity.json", ""),
        ("aqua", "aqua/dd_one_v2_api_v1_scan_result.json", ""),
        ("grype", "grype/dd_grype_fix_available.json", "registry.example.com/app:1"),
        ("harbor", "harbor/dd_harbor_report_clair_5.json", "harbor.example.com/library/redis:7"),
        ("trivy-k8s", "trivy/k8s/report_all_three_images.json", ""),
        ("trivy-operator", "trivy/operator/kubectl_list_two_reports.json", ""),
        ("auto", "trivy/trivy_ubuntu-1804.json", ""),
    ],
)
def test_a_posted_report_is_parsed_once(post, monkeypatch, settings, source, fixture, image):
    body = (FIXTURES / fixture).read_bytes()
    assert len(body) <= settings.WEBHOOK_CHECK_MAX_BYTES  # checked when posted
    in_report = sum(len(scan.findings) for scan in parse_all(source, load_body(source, body)))
    assert in_report > 0
    read = []  # findings each parse read: every parse is screened once (findings.parsers)
    screen = parsers.screen
    monkeypatch.setattr(
        parsers, "screen", lambda scan: read.append(len(scan.findings)) or screen(scan)
    )

    response = post(f"/api/v1/webhooks/{source}/?image={quote(image)}", body)
    assert response.status_code == 202, response.content
    assert delivery_process_task.apply(args=[response.json()["delivery"]]).get() == "processed"

    assert sum(read) == in_report
