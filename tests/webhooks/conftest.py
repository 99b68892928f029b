from __future__ import annotations

import pytest
from django.test import Client

from findings.models import Delivery, Finding, Scan

SECRET = "s3cret-value"


@pytest.fixture
def secret(monkeypatch):
    for name in ("WEBHOOK_SECRET", "WEBHOOK_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    for source in ("AQUA", "TRIVY", "HARBOR", "GRYPE", "GENERIC", "AUTO"):
        monkeypatch.delenv(f"WEBHOOK_SECRET_{source}", raising=False)
        monkeypatch.delenv(f"WEBHOOK_SECRET_{source}_FILE", raising=False)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    return SECRET


@pytest.fixture
def post(client: Client, secret):
    """POST a body to a webhook with the bearer secret unless headers say otherwise."""

    def send(
        path: str, body: bytes, *, auth: bool = True, content_type="application/json", **extra
    ):
        if auth:
            extra.setdefault("HTTP_AUTHORIZATION", f"Bearer {secret}")
        return client.generic("POST", path, body, content_type=content_type, **extra)

    return send


def nothing_ingested() -> bool:
    return not Scan.objects.exists() and not Finding.objects.exists()


def only_delivery() -> Delivery:
    return Delivery.objects.get()
