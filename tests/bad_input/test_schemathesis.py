"""schemathesis against /api/v1/schema/: generated requests to every operation, as
an admin with a token, over a database with scans, findings, deliveries and actions.
No answer may be a 5xx; every answer must match the schema (status, shape, nulls)."""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from findings.deliveries import delivery_store
from tests.dashboard.factories import make_action, make_findings, make_tag
from tests.engine.factories import ingest, vuln

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    status_code_conformance,
]


@pytest.fixture
def keep_connection():
    """Like Django's test client, keep the test's database connection open across
    requests (a real request closes it when it finishes)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def stored(db, settings_for_api, keep_connection) -> None:
    """Something of everything, so that answers carry real rows (and their nulls)."""
    make_findings(make_tag("team/web"), 3, severities=["high", "low"])
    scan = ingest(vuln(), vuln("CVE-2024-0002", "zlib", fixed=""))
    make_action(scan.tag, findings=list(scan.findings.all()))
    delivery_store(source="trivy", body=b"{not json", external_id="bad-1")


@pytest.fixture
def settings_for_api(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_UNAUTHENTICATED = True
    for name in ("WEBHOOK_SECRET", "WEBHOOK_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    return settings


@pytest.fixture
def admin_token(db) -> str:
    admin = get_user_model().objects.create_superuser("fuzz-admin", password="x")
    return Token.objects.create(user=admin).key


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_no_5xx_and_matches_its_schema(case, stored, admin_token):
    case.call_and_validate(headers={"Authorization": f"Token {admin_token}"}, checks=CHECKS)
