"""The bad-input corpus (tests/fixtures/bad/): bodies and requests, read as tables."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from findings.models import Delivery, Finding, Repository, Scan, Tag, Vulnerability
from remediator.engine.models import AuditEvent, RemediationAction
from tests.dashboard.conftest import make_user

FIXTURES_DIR = Path(__file__).parent.parent / "fixtures"
BAD = FIXTURES_DIR / "bad"
SOURCES = ("aqua", "trivy", "trivy-k8s", "harbor", "grype", "generic", "auto", "vex")
SECRET = "corpus-secret"


@dataclass(frozen=True)
class BadBody:
    name: str
    body: bytes
    status: int
    reason: str
    tries: str


@dataclass(frozen=True)
class BadRequest:
    name: str
    who: str
    method: str
    path: str
    headers: dict
    body: str
    status: int
    error: str
    kept: str


def _rows(name: str) -> list[list[str]]:
    lines = (BAD / name).read_text(encoding="utf-8").splitlines()
    return [
        row
        for row in csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        if row and not row[0].startswith("#")
    ]


def _generated() -> list[BadBody]:
    """Bodies too big for a fixture file, built here."""
    return [
        BadBody(
            "deep_nesting_10000",
            b"[" * 10_000 + b"]" * 10_000,
            400,
            "nested deeper",
            "10,000 levels of lists",
        ),
        BadBody(
            "deep_object_nesting_5000",
            b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
            400,
            "nested deeper",
            "5,000 levels of objects",
        ),
        BadBody(
            "escaped_quotes_100kb_unterminated",
            b'{"a": "' + b'\\"' * 50_000,
            400,
            "not JSON",
            '100 KB of \\" with no closing quote (30 s in the old depth scan)',
        ),
        BadBody(
            "escaped_quotes_100kb_in_a_string",
            b'{"a": "' + b'\\"' * 50_000 + b'"}',
            422,
            "",
            '100 KB of \\" in a valid string',
        ),
    ]


def bad_bodies() -> list[BadBody]:
    listed = [
        BadBody(name, (BAD / "bodies" / name).read_bytes(), int(status), reason.strip("-"), tries)
        for name, status, reason, tries in _rows("bodies.tsv")
    ]
    return listed + _generated()


def bad_requests() -> list[BadRequest]:
    return [
        BadRequest(name, who, method, path, json.loads(headers), body, int(status), error, kept)
        for name, who, method, path, headers, body, status, error, kept in _rows("requests.tsv")
    ]


COUNTED = (Finding, Scan, Repository, Tag, Vulnerability, RemediationAction, AuditEvent)


def snapshot() -> dict[str, int]:
    """Row counts of everything a bad input must not change (deliveries apart)."""
    return {model.__name__: model.objects.count() for model in COUNTED}


def rejected_delivery_only(before: dict[str, int], reason: str, after_id: int = 0) -> Delivery:
    """Exactly one new delivery, rejected naming ``reason``, storable; nothing else changed."""
    delivery = Delivery.objects.get(pk__gt=after_id)
    assert delivery.status == Delivery.Status.REJECTED
    assert reason in delivery.error, delivery.error
    for text in (
        delivery.error,
        delivery.external_id,
        delivery.image_hint,
        json.dumps(delivery.headers),
    ):
        assert "\x00" not in text and "\\u0000" not in text
        text.encode("utf-8")  # no lone surrogates
    assert snapshot() == before
    return delivery


@pytest.fixture
def api(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user("props-reader", "Viewer"))
    return client
