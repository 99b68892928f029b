"""Shared by the admission trust tests (tests/trust/test_02, 04, 08, 09, 10): the
`shop/api` story of tests/fixtures/admission/ (a vulnerable digest, its fixed rebuild, a
clean debug image) and the admission test settings, imported by each test module."""

from __future__ import annotations

import pytest

from remediator.engine.models import AdmissionPolicy, AuditEvent
from tests.admission.conftest import TOKEN, URL, admission_settings, answer_of, post_review, sample
from tests.engine.factories import digest, ingest, vuln

VULNERABLE = f"registry.example.com/shop/api@{digest(14)}"
FIXED = f"registry.example.com/shop/api@{digest(15)}"
DEBUG = f"docker.io/library/busybox@{digest(21)}"

__all__ = [
    "DEBUG",
    "FIXED",
    "TOKEN",
    "URL",
    "VULNERABLE",
    "admission_event",
    "admission_settings",
    "answer_of",
    "post_review",
    "sample",
    "shop",
]


@pytest.fixture
def shop(db, settings):
    """The shop/api story scanned: …0e carries a critical CVE, …0f and busybox are
    clean; one enforce policy blocks criticals, and never-scanned images are denied (so
    an image judged by mistake shows)."""
    settings.ADMISSION_UNKNOWN_IMAGES = "deny"
    ingest(vuln("CVE-2024-6119"), image="registry.example.com/shop/api", tag="1.4", digest_no=14)
    ingest(image="registry.example.com/shop/api", tag="1.5", digest_no=15)
    ingest(image="docker.io/library/busybox", tag="1.36", digest_no=21)
    return AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")


def admission_event() -> AuditEvent:
    """The one admission audit event the test caused."""
    return AuditEvent.objects.get(kind=AuditEvent.Kind.ADMISSION)
