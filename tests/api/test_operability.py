"""/healthz, /readyz and /metrics; JSON logs carrying the delivery or action id."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from remediator.celery import app
from remediator.core.logging import JsonFormatter, _task_finished, _task_started, log_context
from remediator.engine.models import RemediationAction
from remediator.engine.services import scan_evaluate
from remediator.intake.receive import delivery_process
from remediator.intake.spool import spool_write
from remediator.intake.store import delivery_store
from remediator.intake.tasks import delivery_process_task
from remediator.integrations.http import HttpClient

from ..conftest import FIXTURES
from ..engine.factories import ingest, vuln
from ..outage import closed_port, database_down

TOKEN = "metrics-token-123"
TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"


@pytest.fixture(autouse=True)
def spool(settings, tmp_path):
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    return settings.WEBHOOK_SPOOL_DIR


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return None


def test_healthz_needs_nothing(client: Client):
    with database_down():
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_is_ready_when_database_broker_and_spool_are(client: Client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True,
        "broker": True,
        "spool": True,
    }


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_database_that_is_down(client: Client):
    with database_down():
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": False, "ms": checks["database"]["ms"],
                                  "error": "OperationalError"}  # fmt: skip
    assert checks["spool"]["ok"] and checks["broker"]["ok"]


@pytest.mark.django_db(transaction=True)
def test_readyz_names_an_unwritable_spool(client: Client, settings, tmp_path):
    (tmp_path / "file").write_text("")
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "file" / "spool"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["spool"]["ok"] is False
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_readyz_names_a_broker_that_is_down(client: Client, monkeypatch):
    # broker_write_url: what connection_for_write uses; CELERY_BROKER_URL in the
    # environment (CI) would win over a patched broker_url. setitem, not setattr: undoing
    # a setattr would pin the computed URL and outlive this test.
    monkeypatch.setitem(app.conf, "broker_write_url", f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_metrics_are_refused_until_a_token_is_configured(client: Client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOW_UNAUTHENTICATED = False
    assert client.get("/metrics").status_code == 403
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


@pytest.mark.django_db
def test_metrics_show_deliveries_queue_actions_ingest_providers_and_spool(
    client: Client, settings, httpserver
):
    settings.METRICS_TOKEN = TOKEN
    before = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()
    ingested_before = sample(before, "remediator_ingest_findings_total", source="trivy") or 0
    processed, _ = delivery_store(source="trivy", body=(FIXTURES / TRIVY).read_bytes())
    findings = delivery_process(delivery=processed).findings
    delivery_store(source="trivy", body=b'{"queued": true}')
    delivery_store(source="aqua", body=b"{}")
    scan_evaluate(scan_id=ingest(vuln()).pk)
    spool_write(source="trivy", body=b"x" * 10)
    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/down").respond_with_data("no", status=503)
    client_ = HttpClient("gitlab", httpserver.url_for(""), retries=0)
    client_.request("GET", "/ok")
    with pytest.raises(Exception):  # noqa: B017  (a ProviderError: what matters is the count)
        client_.request("GET", "/down")

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert sample(text, "remediator_deliveries", source="trivy", status="processed") == 1
    assert sample(text, "remediator_deliveries", source="trivy", status="queued") == 1
    assert sample(text, "remediator_deliveries", source="aqua", status="queued") == 1
    assert sample(text, "remediator_queue_depth") == 2
    assert sample(text, "remediator_queue_oldest_age_seconds") >= 0
    for row in RemediationAction.objects.values("kind", "state").distinct():
        count = RemediationAction.objects.filter(**row).count()
        assert sample(text, "remediator_actions", kind=row["kind"], state=row["state"]) == count
    assert sample(text, "remediator_ingest_findings_total", source="trivy") == (
        ingested_before + findings
    )
    assert sample(text, "remediator_ingest_duration_seconds_count", source="trivy") >= 1
    assert sample(text, "remediator_provider_call_duration_seconds_count",
                  provider="gitlab", method="GET") >= 2  # fmt: skip
    assert sample(text, "remediator_provider_call_errors_total", provider="gitlab",
                  kind="5xx") >= 1  # fmt: skip
    assert sample(text, "remediator_spool_files") == 1
    assert sample(text, "remediator_spool_bytes") > 10
    assert sample(text, "remediator_database_up") == 1


@pytest.mark.django_db(transaction=True)
def test_metrics_still_answer_with_the_database_down(client: Client, settings):
    settings.METRICS_TOKEN = TOKEN
    with database_down():
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert sample(response.content.decode(), "remediator_database_up") == 0


def record(message: str, **extra) -> logging.LogRecord:
    made = logging.LogRecord("findings.tasks", logging.INFO, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_json_logs_carry_the_delivery_or_action_id():
    formatter = JsonFormatter()
    with log_context(delivery_id=41):
        inside = json.loads(formatter.format(record("stored")))
    assert inside["delivery_id"] == 41 and inside["message"] == "stored"
    assert json.loads(formatter.format(record("x", action_id=7)))["action_id"] == 7

    _task_started(task=delivery_process_task, args=[99])
    in_task = json.loads(formatter.format(record("processing")))
    _task_finished()
    assert in_task["delivery_id"] == 99 and in_task["task"] == "findings.delivery_process"
    assert "delivery_id" not in json.loads(formatter.format(record("after")))
