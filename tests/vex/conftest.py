"""VEX out: the engine tests' people and settings, Trivy's report of alpine:latest
ingested, and the published schemas every document is checked against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from rest_framework.test import APIClient

from findings.models import Finding, Scan
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store
from tests.engine.conftest import defaults, engine_settings, people  # noqa: F401

FIXTURES = Path(__file__).parent.parent / "fixtures"
SCHEMAS = FIXTURES / "vex" / "schemas"
ALPINE_REPORT = FIXTURES / "trivy" / "trivy_docs_reporting_alpine_latest.json"
"""Trivy's documented report of alpine:latest: RepoDigests and PkgIdentifier.PURL."""


def validator(name: str, cls):
    schema = json.loads((SCHEMAS / name).read_text())
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


OPENVEX = validator("openvex_json_schema.json", Draft202012Validator)
INDEX = validator("vex_repo_index.schema.json", Draft7Validator)
MANIFEST = validator("vex_repository.schema.json", Draft7Validator)


def valid_openvex(document: dict) -> dict:
    """``document``, after checking it against the OpenVEX JSON schema."""
    errors = sorted(OPENVEX.iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]
    return document


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def alpine_scan(db) -> Scan:
    """The report ingested as a webhook delivers it."""
    delivery, _ = delivery_store(source="trivy", body=ALPINE_REPORT.read_bytes())
    return delivery_process(delivery=delivery).scan


@pytest.fixture
def alpine(alpine_scan) -> dict[str, Finding]:
    """Its two findings (CVE-2024-9143 in libcrypto3 and in libssl3), by package."""
    return {f.package: f for f in Finding.objects.filter(repository=alpine_scan.tag.repository)}
