from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer

from remediator.engine.models import AuditEvent, BuildTarget
from remediator.integrations.ci import TriggerRequest

TOKEN = "tok_S3CRET-value-never-logged"
API_TOKEN = "api_S3CRET-value-never-logged"
CORRELATION_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
DIGEST = "sha256:" + "ab" * 32


@pytest.fixture(autouse=True)
def fast_retries(settings):
    settings.PROVIDER_RETRIES = 2
    settings.PROVIDER_RETRY_BACKOFF = 0.001
    return settings


@pytest.fixture
def secrets_env(monkeypatch):
    monkeypatch.setenv("REMEDIATOR_SECRET_TEST", TOKEN)
    monkeypatch.setenv("REMEDIATOR_SECRET_TEST_API", API_TOKEN)


@pytest.fixture
def make_target(httpserver, secrets_env):
    def make(provider: str, **fields) -> BuildTarget:
        values = {
            "name": f"{provider}-target",
            "provider": provider,
            "url": httpserver.url_for("").rstrip("/"),
            "project": "acme/api",
            "ref": "main",
            "token_env": "REMEDIATOR_SECRET_TEST",
        }
        values.update(fields)
        return BuildTarget(**values)

    return make


@pytest.fixture
def trigger_request() -> TriggerRequest:
    return TriggerRequest(
        correlation_id=CORRELATION_ID,
        image=f"registry.example.com/acme/api:1.4@{DIGEST}",
        digest=DIGEST,
        vulnerability_ids=("CVE-2024-6119", "GHSA-h5c8-rqwp-cp95"),
        packages=(("openssl", "3.3.2-r0"), ("zlib", "1.3.1-r1")),
        details_url="http://127.0.0.1:8000/api/v1/actions/42/",
    )


@pytest.fixture
def threaded_server():
    """A server answering several requests at once (for handlers that sleep)."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def audit_dump() -> str:
    """Every provider-call AuditEvent, as one string to search for secrets."""
    rows = AuditEvent.objects.filter(kind="provider_call").values("message", "actor_label", "data")
    return json.dumps(list(rows))


def provider_calls() -> list[dict]:
    return [e.data for e in AuditEvent.objects.filter(kind="provider_call").order_by("id")]
