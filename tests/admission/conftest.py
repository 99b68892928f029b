from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from findings.models import Tag
from remediator.engine.admission.cache import admission_memory_clear
from remediator.engine.models import ActionKind, ActionState, AdmissionPolicy, RemediationAction
from tests.engine.factories import ingest, tag_of, vuln

FIXTURES = Path(__file__).parent.parent / "fixtures" / "admission"
TOKEN = "admission-test-token-0123456789"
SCHEMA = json.loads((FIXTURES / "admission_review_v1.schema.json").read_text())
URL = "/api/v1/admission/validate"


@pytest.fixture(autouse=True)
def admission_settings(request, settings, monkeypatch):
    settings.ADMISSION_WRITE_DELAY_SECONDS = 0
    settings.ADMISSION_UNKNOWN_IMAGES = "warn"
    settings.ADMISSION_BREAK_GLASS = True
    settings.ADMISSION_ALLOW_UNAUTHENTICATED = False
    settings.ADMISSION_CLUSTER_NAME = ""
    settings.BASE_URL = "https://remediator.example.com"
    monkeypatch.setenv("ADMISSION_TOKEN", TOKEN)
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    admission_memory_clear()
    if uses_db:
        cache.clear()
    yield settings
    admission_memory_clear()
    if uses_db:
        cache.clear()


def sample(name: str) -> dict:
    return copy.deepcopy(json.loads((FIXTURES / name).read_text()))


def post_review(client, body, *, token: str = TOKEN, path: str = URL):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(path, data=data, content_type="application/json", **headers)


def answer_of(response) -> dict:
    """The AdmissionReview answer, checked against the published schema."""
    assert response.status_code == 200, response.content
    body = response.json()
    jsonschema.validate(body, SCHEMA)
    return body["response"]


@pytest.fixture
def vulnerable(db):
    """alpine:3.10 and nginx (latest) each scanned with a fixable critical CVE; the
    alpine tag has a rebuild awaiting approval."""
    alpine = tag_of(ingest(vuln("CVE-2024-6119"), image="alpine", tag="3.10", digest_no=310))
    nginx = tag_of(
        ingest(vuln("CVE-2023-44487", "nghttp2"), image="nginx", tag="latest", digest_no=125)
    )
    action = RemediationAction.objects.create(
        kind=ActionKind.REBUILD,
        state=ActionState.AWAITING_APPROVAL,
        repository=alpine.repository,
        tag=alpine,
        image=alpine.image,
    )
    return {"alpine": alpine, "nginx": nginx, "action": action}


@pytest.fixture
def enforce_critical(db) -> AdmissionPolicy:
    return AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")


@pytest.fixture
def approver(db) -> User:
    return User.objects.create_superuser("sam", "sam@example.com", "pw")


__all__ = ["Tag"]
