from __future__ import annotations

import pytest

from findings.parsers import SOURCES, ParseError, detect, parse

from .conftest import fixture_document, report_fixtures

EMPTY_FIXTURES = {
    "dd_empty_aquadevops.json",
    "dd_no_vuln_empty_object.json",
    "dd_legacy_no_vuln_null.json",
}
NON_EMPTY = sorted(
    (path.parent.name, path.name) for path in report_fixtures() if path.name not in EMPTY_FIXTURES
)
SAME_SHAPE_AS_GENERIC = {("aqua", "seed_blog_simplified_payload.json")}
"""The seed blog's "Aqua" payload has exactly the generic format's shape: ``auto``
reads it as generic (same findings); ``/webhooks/aqua/`` reads it as Aqua."""


@pytest.mark.parametrize(("slug", "name"), NON_EMPTY, ids=[f"{s}/{n}" for s, n in NON_EMPTY])
def test_detect_names_the_format_of_each_fixture(slug: str, name: str) -> None:
    expected = "generic" if (slug, name) in SAME_SHAPE_AS_GENERIC else slug
    assert detect(fixture_document(slug, name)) == expected


@pytest.mark.parametrize("document", [{}, [], None])
def test_detect_refuses_an_empty_document(document: object) -> None:
    with pytest.raises(ParseError, match="cannot tell the format of an empty document"):
        detect(document)


@pytest.mark.parametrize(
    "document", [{"foo": 1}, [1, 2], [{"x": 1}], "text", 42, True, {"matches": []}]
)
def test_detect_lists_the_formats_it_tried(document: object) -> None:
    with pytest.raises(ParseError) as excinfo:
        detect(document)
    message = str(excinfo.value)
    for slug in ("aqua", "trivy", "trivy-k8s", "trivy-operator", "grype", "harbor", "generic"):
        assert slug in message


@pytest.mark.parametrize(
    ("document", "slug"),
    [
        ({"findings": [], "scanId": "x"}, "generic"),
        ({"generated_at": "2020-01-01T00:00:00Z", "vulnerabilities": None}, "harbor"),
        ({"result": [], "count": 0}, "aqua"),
        ({"image": "a:1", "vulnerability_summary": {}}, "aqua"),
        ([{"Target": "x", "Vulnerabilities": []}], "trivy"),
        ({"matches": [], "descriptor": {"name": "grype"}}, "grype"),
    ],
)
def test_detect_by_shape(document: object, slug: str) -> None:
    assert detect(document) == slug


def test_auto_parses_like_the_detected_parser() -> None:
    document = fixture_document("trivy", "trivy_alpine-39.json")
    assert parse("auto", document) == parse("trivy", document)


def test_auto_on_a_harbor_webhook_explains_it_is_not_a_report() -> None:
    document = fixture_document("harbor", "zulip_scanning_completed.json")
    with pytest.raises(ParseError, match="webhook event"):
        parse("auto", document)


def test_unknown_source_names_the_valid_slugs() -> None:
    with pytest.raises(ParseError) as excinfo:
        parse("clair", {})
    for slug in SOURCES:
        assert slug in str(excinfo.value)


def test_sources_are_the_parsers_plus_auto_and_vex() -> None:
    assert SOURCES == (
        "aqua",
        "trivy",
        "trivy-k8s",
        "trivy-operator",
        "harbor",
        "grype",
        "generic",
        "auto",
        "vex",  # vendors' VEX documents: no scan report (findings/parsers/vex)
    )
