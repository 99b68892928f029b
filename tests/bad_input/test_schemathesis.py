"""schemathesis against /api/v1/schema/: generated requests to every documented operation,
as an admin with a token (the admission routes with their bearer token), over a database
with scans, findings, deliveries, actions, a policy and a build target that keeps a
Dockerfile. Both kinds of data are generated: requests the schema allows (positive) and
requests it forbids (negative), so a mismatch between the schema and the API fails the
run, not only a 5xx.

The checks, and why each is here (schemathesis 4; all of its response checks but the
stateful ones):

- not_a_server_error: no input causes a 5xx.
- status_code_conformance: every status answered is documented for its operation.
- content_type_conformance: the answer's Content-Type is the one documented.
- response_headers_conformance: documented response headers are sent, of their schema.
- response_schema_conformance: the body has the documented shape (types, nulls, required).
- negative_data_rejection: a request the schema forbids (a wrong type, a value out of
  range, a missing required field) is refused with a 4xx.
- positive_data_acceptance: a request the schema allows is not refused as bad input.
  Allowed answers: 2xx, 401, 403, 404 (no such object), 409 (wrong state), 422 (a
  well-formed request this object cannot take, each documented where it happens: no
  Dockerfile kept, no pull-request build target, an acceptance ending in the past),
  429. A 400 to a schema-valid request is a schema that says too little.
- missing_required_header: leaving out a required header gets a 4xx.
- unsupported_method: a method the path does not document gets 405.
- allow_header_conformance: that 405 names the methods in Allow.
- ignored_auth: an operation that declares security refuses a request without it.

Not used: use_after_free and ensure_resource_availability (stateful runs over links
between operations: the API creates nothing through POST that a later GET reads by id),
object_level_authorization (needs a second principal's ids; tests/test_rbac_matrix.py
walks every route with every role instead), max_response_time (no timing in tests).

Two operations take bodies no schema can describe, so positive_data_acceptance is left
out for them: a webhook takes any bytes (seven scanners' formats; 400 when empty or not
JSON, 422 when no known report, 200 for a repeat of a stored body), and the admission
and inventory routes take Kubernetes objects (AdmissionReview, PodList) and a cluster
name of printable characters.

Generation: a cursor is opaque (format ``cursor``): schemathesis cannot invent one the API
made, so allowed cursors are drawn from ones the API's own encoder makes; path ids are
sometimes replaced by ids that exist (else nearly every call would be a 404).
"""

from __future__ import annotations

import os
from base64 import b64encode

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from remediator.core.storable import BIGINT_MAX
from remediator.engine.models import BuildTarget, Policy
from remediator.intake.store import delivery_store
from tests.dashboard.factories import make_action, make_findings, make_tag
from tests.engine.factories import ingest, vuln

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "150"))
"""150 per operation: about 9,000 requests in a minute on 2 cores; raise it to dig deeper."""
DERANDOMIZE = not os.environ.get("SCHEMATHESIS_RANDOM")
"""The same examples every run, unless SCHEMATHESIS_RANDOM is set (exploring)."""
ADMISSION_TOKEN = "schemathesis-admission-token"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    ignored_auth,
]
ANY_BODY = ("/api/v1/webhooks/", "/api/v1/admission/", "/api/v1/inventory/")
"""Operations whose body no schema describes: no positive_data_acceptance."""
ACCEPTED_FOR_VALID_DATA = ["2XX", "401", "403", "404", "409", "422", "429"]
KNOWN_IDS: dict[str, list[int]] = {}
"""Ids that exist, by the collection in the path (set by the ``stored`` fixture)."""
CALLS = {"requests": 0}


def _cursor(text: str) -> str:
    """A cursor as the API encodes one (DRF's CursorPagination.encode_cursor)."""
    return b64encode(text.encode("ascii")).decode("ascii")


MADE_CURSORS = [_cursor(t) for t in ("p=1", "p=3", "r=1&p=4", "o=1&p=2", "o=2&r=1&p=9")]
schemathesis.openapi.format("cursor", st.sampled_from(MADE_CURSORS))


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
    tag = make_tag("team/web")
    findings = make_findings(tag, 3, severities=["high", "low"])
    scan = ingest(vuln(), vuln("CVE-2024-0002", "zlib", fixed=""))
    target = BuildTarget.objects.create(
        name="web-gitlab",
        provider="gitlab",
        url="https://gitlab.example.com",
        project="7",
        token_env="REMEDIATOR_SECRET_SCHEMA_GITLAB",
        image_patterns=["registry.test/team/*"],
        dockerfile="FROM alpine:3.19\nRUN apk add --no-cache openssl\n",
    )
    actions = [
        make_action(scan.tag, findings=list(scan.findings.all())),
        make_action(tag, findings=findings, build_target=target),
    ]
    policy = Policy.objects.create(name="schema-fuzz", min_severity="high")
    delivery, _ = delivery_store(source="trivy", body=b"{not json", external_id="bad-1")
    KNOWN_IDS.clear()
    KNOWN_IDS.update(
        actions=[a.pk for a in actions],
        findings=[f.pk for f in findings],
        images=[tag.repository_id, scan.tag.repository_id],
        scans=[scan.pk],
        deliveries=[delivery.pk],
        policies=[policy.pk],
    )


@pytest.fixture
def settings_for_api(settings, monkeypatch):
    settings.WEBHOOK_ALLOW_UNAUTHENTICATED = True
    settings.ADMISSION_WRITE_DELAY_SECONDS = 0
    for name in ("WEBHOOK_SECRET", "WEBHOOK_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ADMISSION_TOKEN", ADMISSION_TOKEN)
    return settings


@pytest.fixture
def admin_token(db) -> str:
    admin = get_user_model().objects.create_superuser("fuzz-admin", password="x")
    return Token.objects.create(user=admin).key


schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", WSGIHandler())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=MAX_EXAMPLES
)
schema.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED_FOR_VALID_DATA


@schema.hook
def flatmap_path_parameters(context, path_parameters: dict | None):
    """Often an id that exists instead of a generated one; only a valid id is replaced
    (by another valid one), so a negative case stays negative."""
    parts = context.operation.path.split("/")  # /.well-known/... has no collection
    known = KNOWN_IDS.get(parts[3]) if len(parts) > 3 else None
    given = (path_parameters or {}).get("id")
    valid = isinstance(given, int) and not isinstance(given, bool) and 1 <= given <= BIGINT_MAX
    if not known or not valid:
        return st.just(path_parameters)
    return st.sampled_from([given, *known]).map(lambda i: {**path_parameters, "id": i})


@schema.hook
def map_case(context, case):
    """A schema-valid case's cursor is one the API made: the coverage phase invents
    boundary values ("0") that no encoder produced. Negative cases keep theirs."""
    cursor = (case.query or {}).get("cursor")
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and cursor is not None and cursor not in MADE_CURSORS:
        case.query["cursor"] = MADE_CURSORS[len(str(cursor)) % len(MADE_CURSORS)]
    return case


@schema.hook
def filter_failure(context, failure, case, response) -> bool:
    """A webhook body already stored is answered 200 as a duplicate, whatever the rest of
    the request (documented: the sender stops retrying): not a schema-violating request
    accepted."""
    duplicate = case.operation.path.startswith("/api/v1/webhooks/") and response.status_code == 200
    if duplicate and isinstance(failure, AcceptedNegativeData):
        return not response.json().get("duplicate")
    return True


def _credentials(path: str, token: str) -> dict[str, str]:
    if path.startswith(("/api/v1/admission/", "/api/v1/inventory/")):
        return {"Authorization": f"Bearer {ADMISSION_TOKEN}"}
    return {"Authorization": f"Token {token}"}


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=DERANDOMIZE,
    suppress_health_check=list(HealthCheck),
)
def test_api_and_schema_agree(case, stored, admin_token):
    path = case.operation.path
    checks = [
        check
        for check in CHECKS
        if not (check is positive_data_acceptance and path.startswith(ANY_BODY))
    ]
    CALLS["requests"] += 1
    case.call_and_validate(headers=_credentials(path, admin_token), checks=checks)
