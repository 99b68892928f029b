"""The seed blog's "Aqua" payload ``{"scanId", "findings": [...], "status"}`` (FORMATS.md
section 6) at the Aqua receiver, the CLI and ``auto``."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from findings.models import Finding, Scan
from remediator.intake.receive import delivery_process as delivery_run

from ..conftest import FIXTURES
from .conftest import nothing_ingested, only_delivery

pytestmark = pytest.mark.django_db

SEED = "aqua/seed_blog_simplified_payload.json"


def assert_the_seed_finding() -> None:
    finding = Finding.objects.get()
    assert finding.vulnerability_id == "CVE-2023-1234"
    assert finding.package == "openssl"
    assert finding.installed_version == "1.1.1t-1ubuntu1.3"
    assert finding.fixed_version == "1.1.1u-1ubuntu1.4"
    assert finding.severity == "critical"
    assert finding.repository.name == "library/my-app"
    assert finding.tag.name == "latest"


def test_seed_example_with_an_image_parameter_becomes_the_openssl_finding(post, fixture_bytes):
    response = post("/api/v1/webhooks/aqua/?image=my-app:latest", fixture_bytes(SEED))

    assert response.status_code == 202, response.content
    delivery_run(delivery=only_delivery())
    assert_the_seed_finding()
    scan = Scan.objects.get()
    assert scan.source == "aqua" and not scan.failed


def test_seed_example_with_the_image_header(post, fixture_bytes):
    response = post(
        "/api/v1/webhooks/aqua/", fixture_bytes(SEED), HTTP_X_REMEDIATOR_IMAGE="my-app:latest"
    )

    assert response.status_code == 202, response.content
    assert only_delivery().image_hint == "my-app:latest"
    delivery_run(delivery=only_delivery())
    assert_the_seed_finding()


def test_seed_example_with_the_image_in_the_body(post, fixture_bytes):
    document = json.loads(fixture_bytes(SEED))
    document["image"] = "my-app:latest"

    response = post("/api/v1/webhooks/aqua/", json.dumps(document).encode())

    assert response.status_code == 202, response.content
    delivery_run(delivery=only_delivery())
    assert_the_seed_finding()


def test_seed_example_without_an_image_says_exactly_how_to_name_it(post, fixture_bytes):
    response = post("/api/v1/webhooks/aqua/", fixture_bytes(SEED))

    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "no_image"
    for way in ("?image=registry/repo:tag", "X-Remediator-Image", '"image"', '"digest"'):
        assert way in body["detail"]
    assert only_delivery().status == "rejected"
    assert nothing_ingested()


def test_a_failed_status_makes_a_failed_scan(post, fixture_bytes):
    document = json.loads(fixture_bytes(SEED))
    document["status"] = "Failed"

    response = post("/api/v1/webhooks/aqua/?image=my-app:latest", json.dumps(document).encode())

    assert response.status_code == 202
    delivery_run(delivery=only_delivery())
    scan = Scan.objects.get()
    assert scan.failed and "Failed" in scan.failure


def test_auto_accepts_the_seed_example(post, fixture_bytes):
    response = post("/api/v1/webhooks/auto/?image=my-app:latest", fixture_bytes(SEED))

    assert response.status_code == 202, response.content
    delivery_run(delivery=only_delivery())
    assert_the_seed_finding()


def test_cli_ingests_the_seed_example_as_aqua():
    out = io.StringIO()
    call_command(
        "ingest", str(FIXTURES / SEED), "--source", "aqua", "--image", "my-app:latest", stdout=out
    )

    assert json.loads(out.getvalue())["findings"] == 1
    assert_the_seed_finding()
    assert Scan.objects.get().source == "aqua"
