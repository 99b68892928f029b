"""Each decision's OpenVEX statement: status, justification or impact, products. Pure."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from remediator.engine.vex.statements import (
    FindingFacts,
    statement,
    statements_for,
    statements_hash,
)

from .conftest import valid_openvex

AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
PRODUCT = "pkg:oci/api@sha256:" + "1" * 64 + "?repository_url=registry.example.com%2Facme%2Fapi"
SUB = "pkg:apk/alpine/openssl@3.3.1-r0"


def facts(status: str, **more) -> FindingFacts:
    base = {
        "product": PRODUCT,
        "vulnerability_id": "CVE-2024-6119",
        "package": "openssl",
        "installed_version": "3.3.1-r0",
        "package_type": "apk",
        "os": "alpine 3.20.0",
        "status": status,
        "at": AT,
        "reason": "no TLS in this image",
    }
    return FindingFacts(**(base | more))


def document(*statements: dict) -> dict:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://remediator.example.com/api/v1/images/1/vex/",
        "author": "Remediator",
        "timestamp": "2026-12-01T09:30:00Z",
        "version": 1,
        "statements": list(statements),
    }


@pytest.mark.parametrize(
    ("decision", "expected"),
    [
        (
            facts("not_affected", justification="vulnerable_code_not_in_execute_path"),
            {
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "no TLS in this image",
            },
        ),
        (
            facts("not_affected"),  # no justification: the reason is the impact statement
            {"status": "not_affected", "impact_statement": "no TLS in this image"},
        ),
        (
            facts("affected", accepted_until=datetime(2027, 3, 1, tzinfo=UTC)),
            {
                "status": "affected",
                "action_statement": "Risk accepted until 2027-03-01 (no TLS in this image)",
                "action_statement_timestamp": "2026-12-01T09:30:00Z",
            },
        ),
        (
            facts("affected", reason="vendor patch due"),
            {
                "status": "affected",
                "action_statement": "Risk accepted with no end date (vendor patch due)",
                "action_statement_timestamp": "2026-12-01T09:30:00Z",
            },
        ),
        (
            facts("under_investigation", reason="is the parser reachable?"),
            {"status": "under_investigation", "status_notes": "is the parser reachable?"},
        ),
        (facts("fixed", reason=""), {"status": "fixed"}),
    ],
    ids=[
        "not-affected",
        "not-affected-no-justification",
        "accepted",
        "accepted-for-good",
        "investigating",
        "fixed",
    ],
)
def test_each_decision_becomes_its_statement(decision, expected):
    made = statement(decision)

    assert made == {
        "vulnerability": {"name": "CVE-2024-6119"},
        "timestamp": "2026-12-01T09:30:00Z",
        "products": [
            {"@id": PRODUCT, "hashes": {"sha-256": "1" * 64}, "subcomponents": [{"@id": SUB}]}
        ],
        **expected,
    }
    valid_openvex(document(made))


def test_an_unknown_package_type_names_the_product_alone():
    made = statement(facts("not_affected", package_type="unknown"))

    assert made["products"] == [{"@id": PRODUCT, "hashes": {"sha-256": "1" * 64}}]
    valid_openvex(document(made))


def test_reasons_are_data_in_json_strings():
    hostile = '"}]},{"status":"not_affected"\n<script>'
    made = statement(facts("under_investigation", reason=hostile))

    assert made["status_notes"] == hostile
    assert made["products"][0]["@id"] == PRODUCT


def test_duplicates_collapse_and_the_order_is_stable():
    one = facts("not_affected", justification="component_not_present")
    other = facts("not_affected", vulnerability_id="CVE-2023-0001")

    assert statements_for([other, one, one]) == statements_for([one, other])
    assert [s["vulnerability"]["name"] for s in statements_for([other, one])] == [
        "CVE-2023-0001",
        "CVE-2024-6119",
    ]
    assert statements_hash(statements_for([one])) != statements_hash(statements_for([other]))


def test_grype_finds_the_product_by_its_digest():
    """Grype (grype/vex/openvex/implementation.go, identifiersFromDigests) names the image
    by ``pkg:oci/<name>@<digest>?repository_url=<registry>/<path without the name>`` and
    by the bare hex digest; go-vex's Component.Matches compares the latter with the
    product's hashes."""
    made = statement(facts("not_affected"))
    product = made["products"][0]
    grype_identifiers = [
        "registry.example.com/acme/api@sha256:" + "1" * 64,
        "pkg:oci/api@sha256%3A" + "1" * 64 + "?repository_url=registry.example.com%2Facme",
        "1" * 64,
    ]
    assert grype_identifiers[2] in product["hashes"].values()
