"""Harbor scan events against a local server that answers as Harbor's v2.0 API does."""

from __future__ import annotations

import base64
import json

import pytest
from werkzeug import Response

from findings.models import Delivery, Finding, Scan
from remediator.intake.tasks import delivery_process_task

from ..conftest import FIXTURES

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/harbor/"
BASIC = "Basic " + base64.b64encode(b"robot$remediator:harbor-pass").decode()
ZULIP_DIGEST = "sha256:b50334049354ed01330403212605dce2f4676a4e787ed113506861d9cf3c5424"
# Werkzeug decodes the path once: Harbor's double-encoded 'alpine%252Fhelm' arrives as this.
ZULIP_REPORT_PATH = (
    f"/api/v2.0/projects/test/repositories/alpine%2Fhelm/artifacts/{ZULIP_DIGEST}"
    "/additions/vulnerabilities"
)


def harbor_fixture(name: str) -> bytes:
    return (FIXTURES / "harbor" / name).read_bytes()


@pytest.fixture
def harbor(httpserver, settings, monkeypatch):
    settings.HARBOR_URL = httpserver.url_for("/").rstrip("/")
    settings.HARBOR_USERNAME = "robot$remediator"
    settings.PROVIDER_RETRIES = 0
    settings.PROVIDER_RETRY_BACKOFF = 0
    settings.DELIVERY_RETRY_BACKOFF = 0
    monkeypatch.setenv("HARBOR_PASSWORD", "harbor-pass")
    return httpserver


def serve_report(harbor, name: str = "dd_harbor_report_clair_5.json", path=ZULIP_REPORT_PATH):
    harbor.expect_request(path, method="GET", headers={"Authorization": BASIC}).respond_with_data(
        harbor_fixture(name), content_type="application/json"
    )


def test_scanning_completed_fetches_the_report_and_ingests_it(post, harbor):
    serve_report(harbor)

    response = post(URL, harbor_fixture("zulip_scanning_completed.json"))
    assert response.status_code == 202
    event = Delivery.objects.get(pk=response.json()["delivery"])
    assert delivery_process_task.apply(args=[event.pk]).get() == "processed"

    event.refresh_from_db()
    report = Delivery.objects.get(channel="harbor-api")
    assert event.status == "processed" and event.headers["report_deliveries"] == [report.pk]
    assert report.status == "processed" and report.headers["event_delivery"] == event.pk
    assert report.image_hint == f"harbor.xxx.xxxx.com/test/alpine/helm:3.8.1@{ZULIP_DIGEST}"
    scan = Scan.objects.get(delivery=report)
    assert (scan.tag.name, scan.image.digest, scan.findings_count) == ("3.8.1", ZULIP_DIGEST, 5)
    assert Finding.objects.count() == 5
    (request, _), *_ = harbor.log
    assert "/repositories/alpine%252Fhelm/" in request.environ["REQUEST_URI"]
    assert request.headers["X-Accept-Vulnerabilities"].startswith(
        "application/vnd.security.vulnerability.report; version=1.1"
    )


def test_cloudevents_completed_event_by_digest_with_an_empty_report(post, harbor):
    default = json.loads(harbor_fixture("docs_scanning_completed_default.json"))
    event = {
        "specversion": "1.0",
        "id": "ce-42",
        "source": "/projects/2/webhook/policies/15",
        "type": "harbor.scan.completed",
        "datacontenttype": "application/json",
        "data": default["event_data"],
    }
    digest = default["event_data"]["resources"][0]["digest"]
    path = (
        f"/api/v2.0/projects/harbor/repositories/alpine/artifacts/{digest}"
        "/additions/vulnerabilities"
    )
    serve_report(harbor, "dd_harbor_report_0_vuln_null.json", path)

    body = json.dumps(event).encode()
    response = post(URL, body, content_type="application/cloudevents+json")
    delivery_process_task.apply(args=[response.json()["delivery"]])

    stored = Delivery.objects.get(pk=response.json()["delivery"])
    assert stored.external_id == "ce-42" and stored.status == "processed"
    scan = Scan.objects.get()
    assert (str(scan.tag), scan.image.digest, scan.findings_count) == (
        "localhost/harbor/alpine (untagged)",
        digest,
        0,
    )
    assert post(URL, body + b" ").json()["delivery"] == stored.pk  # same CloudEvents id


@pytest.mark.parametrize(
    "name",
    [
        "docs_scanning_failed_default.json",
        "docs_scanning_failed_cloudevents.json",
        "docs_scanning_stopped_default.json",
        "docs_scanning_stopped_cloudevents.json",
        "zulip_scanning_failed.json",
        "zulip_scanning_stopped.json",
    ],
)
def test_failed_and_stopped_scans_are_recorded_as_ignored(post, harbor, name):
    response = post(URL, harbor_fixture(name))

    assert response.status_code == 200
    assert response.json()["status"] == "ignored"
    delivery = Delivery.objects.get()
    assert delivery.status == "ignored" and (
        "failed" in delivery.error or "stopped" in delivery.error
    )
    assert not Scan.objects.exists() and not harbor.log


def test_other_harbor_events_are_ignored(post, harbor):
    event = {"type": "PUSH_ARTIFACT", "occur_at": 1, "event_data": {"resources": []}}

    response = post(URL, json.dumps(event).encode())

    assert response.status_code == 200 and response.json()["status"] == "ignored"


def test_completed_event_without_a_digest_is_422(post, harbor):
    event = json.loads(harbor_fixture("zulip_scanning_completed.json"))
    del event["event_data"]["resources"][0]["digest"]

    response = post(URL, json.dumps(event).encode())

    assert response.status_code == 422 and response.json()["error"] == "invalid_event"
    assert Delivery.objects.get().status == "rejected"


def test_harbor_503_then_200_is_retried_by_the_task(post, harbor):
    harbor.expect_oneshot_request(ZULIP_REPORT_PATH).respond_with_response(
        Response("busy", status=503)
    )
    serve_report(harbor)

    response = post(URL, harbor_fixture("zulip_scanning_completed.json"))
    delivery_process_task.apply(args=[response.json()["delivery"]])

    event = Delivery.objects.get(pk=response.json()["delivery"])
    assert event.status == "processed" and event.attempts == 1
    assert len(harbor.log) == 2 and Finding.objects.count() == 5


@pytest.mark.parametrize("status", [404, 401])
def test_permanent_harbor_failure_rejects_the_event(post, harbor, status):
    harbor.expect_request(ZULIP_REPORT_PATH).respond_with_data("no", status=status)

    response = post(URL, harbor_fixture("zulip_scanning_completed.json"))
    assert delivery_process_task.apply(args=[response.json()["delivery"]]).get() == "rejected"

    event = Delivery.objects.get()
    assert event.status == "rejected" and f"answered {status}" in event.error
    assert not Scan.objects.exists()


def test_transient_failure_that_persists_rejects_after_the_last_retry(post, harbor, settings):
    settings.DELIVERY_MAX_RETRIES = 2
    harbor.expect_request(ZULIP_REPORT_PATH).respond_with_data("down", status=503)

    response = post(URL, harbor_fixture("zulip_scanning_completed.json"))
    delivery_process_task.apply(args=[response.json()["delivery"]])

    event = Delivery.objects.get()
    assert event.status == "rejected" and "gave up after 3 attempts" in event.error
    assert len(harbor.log) == 3


def test_harbor_not_configured_rejects_the_event(post, settings):
    settings.HARBOR_URL = ""

    response = post(URL, harbor_fixture("zulip_scanning_completed.json"))
    delivery_process_task.apply(args=[response.json()["delivery"]])

    assert "HARBOR_URL is not set" in Delivery.objects.get().error


def test_report_posted_directly_with_an_image_is_ingested(post):
    response = post(
        f"{URL}?image=harbor.example.com/library/redis:7",
        harbor_fixture("dd_harbor_report_clair_5.json"),
    )
    delivery_process_task.apply(args=[response.json()["delivery"]])

    assert Scan.objects.get().findings_count == 5
