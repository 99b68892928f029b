"""The OpenAPI schema says what each operation needs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_every_operation_says_what_it_needs(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    operations = {
        (method, path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    assert operations
    for (method, path), operation in operations.items():
        assert "Access: " in operation.get("description", ""), f"{method} {path}"
    findings = operations[("get", "/api/v1/findings/")]["description"]
    assert "findings.view_finding" in findings
    delivery = operations[("get", "/api/v1/deliveries/{id}/")]["description"]
    assert "findings.view_delivery" in delivery
    approve = operations[("post", "/api/v1/actions/{id}/approve/")]["description"]
    assert "remediator.approve_action" in approve
    webhook = operations[("post", "/api/v1/webhooks/{source}/")]["description"]
    assert "webhook secret" in webhook
