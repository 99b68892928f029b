"""A report without its findings (``findings.parsers.head``) is refused, or names its
images, exactly as the whole report is: the webhook's post-time check relies on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from findings.parsers import SOURCES, detect, load_body, parse_all
from findings.parsers.base import ParseError
from findings.parsers.head import without_findings

from .conftest import FIXTURES, NOT_REPORTS

REPORTS = sorted(
    path
    for path in FIXTURES.rglob("*")
    if path.suffix in (".json", ".yaml", ".txt")
    and not NOT_REPORTS & set(path.relative_to(FIXTURES).parts)
    and "threat_intel" not in path.parts
)


def outcome(source: str, document: object) -> tuple:
    """The ParseError's words, or what each scan says about itself (not its findings)."""
    try:
        scans = parse_all(source, document)
    except ParseError as exc:
        return ("refused", str(exc))
    return tuple(
        (
            s.source,
            s.image,
            s.scanner,
            s.scan_id,
            s.scanned_at,
            s.os,
            s.failure,
            s.workloads,
            s.extra,
        )
        for s in scans
    )


def test_every_report_fixture_is_compared():
    assert len(REPORTS) >= 80
    assert {path.parent.name for path in REPORTS} >= {"aqua", "trivy", "grype", "harbor", "bodies"}


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_the_head_is_refused_or_names_images_as_the_whole_report_does(path: Path):
    compared = 0
    for source in SOURCES:
        try:
            document = load_body(source, path.read_bytes())
        except (ParseError, ValueError):  # not a document at all: the decoder's business
            continue
        try:
            slug = detect(document) if source == "auto" else source
        except ParseError:
            continue
        whole = outcome(slug, document)
        assert outcome(slug, without_findings(slug, document)) == whole, source
        compared += 1
    assert compared or path.parent.name == "bodies"


SHAPES = [
    # Aqua API v1 scan_result: the image, registry and OS are named by the first row only
    ("aqua", {"count": 2, "result": [
        {"name": "CVE-2024-1", "image_name": "registry.example.com/shop/api:1",
         "image_digest": "sha256:" + "a" * 64, "registry": "corp", "os": "alpine",
         "os_version": "3.20", "resource": {"name": "zlib", "version": "1.3"}},
        {"name": "CVE-2024-2", "resource": {"name": "curl", "version": "8.0"}},
    ]}),
    # Aqua's list wrapper (Azure DevOps), the image named beside the results
    ("aqua", [{"image_name": "registry.example.com/shop/web:2",
               "results": {"resources": [{"resource": {"name": "zlib"},
                                          "vulnerabilities": [{"name": "CVE-2024-3"}]}]}}]),
    ("aqua", [{"image_name": "x", "results": [1]}]),  # refused: results is no object
    ("trivy", [{"Target": "alpine", "Vulnerabilities": [{"VulnerabilityID": "CVE-2024-4"}]}, 5]),
    ("harbor", {"application/vnd.security.vulnerability.report; version=1.1": {
        "generated_at": "2024-01-01T00:00:00Z", "vulnerabilities": "many"}}),
]  # fmt: skip


@pytest.mark.parametrize("source, document", SHAPES)
def test_the_head_of_shapes_no_fixture_has_answers_as_the_whole(source, document):
    assert outcome(source, without_findings(source, document)) == outcome(source, document)


def test_the_head_holds_no_finding_and_the_report_is_left_as_it_was():
    path = FIXTURES / "trivy" / "trivy_ubuntu-1804.json"
    document = load_body("trivy", path.read_bytes())
    before = repr(document)

    [head] = parse_all("trivy", without_findings("trivy", document))

    assert head.findings == () and repr(document) == before
    assert len(parse_all("trivy", document)[0].findings) > 0
