"""Rows that ingest builds straight as tuples hold what their named rows say: over every
finding of every report fixture, and links the details keep or leave out."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from msgspec.structs import astuple

from findings.finding_rows import FindingContent, FindingKey, NewFinding
from findings.parsers import ParseError, load_json, parse_all
from findings.parsers.base import ParsedFinding
from findings.vulnerabilities import VulnerabilityDetails

from ..conftest import FIXTURES

NOT_REPORTS = {"threat_intel", "admission", "inventory", "vex"}
AT = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
SHARED = (7, 8, "open", "", AT, AT, 9, 9, None, None, 0)


def fixture_findings() -> list[ParsedFinding]:
    found = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        if path.parent.name in NOT_REPORTS:
            continue
        try:
            scans = parse_all("auto", load_json(path.read_bytes()))
        except (ParseError, ValueError):
            continue
        found += [f for scan in scans for f in scan.findings]
    return found


FINDINGS = fixture_findings()


def test_the_fixtures_give_findings_to_compare():
    assert len(FINDINGS) > 150


def test_a_new_findings_values_are_its_named_rows_values():
    for parsed in FINDINGS:
        key = FindingKey.of(parsed)
        named = astuple(NewFinding.of(key, FindingContent.of(parsed), at=AT))
        assert NewFinding.values(key, parsed, AT, SHARED) == (*named, *SHARED), parsed


def web_links(links: tuple[str, ...]) -> list[str]:
    """The links the details keep, by their definition: http(s) by urlsplit, at most 20."""

    def web(link: str) -> bool:
        try:
            return urlsplit(link).scheme.lower() in ("http", "https")
        except ValueError:
            return False

    return [link for link in links if web(link)][:20]


@pytest.mark.parametrize(
    "links",
    [
        ("https://example.org/a", "HTTP://EXAMPLE.ORG/B", "HtTpS://example.org/c"),
        ("https://example.org/a", "javascript:alert(1)", "data:text/html,x", "ftp://x"),
        (" https://example.org/lead", "http:no-slashes", "https://[::1/unclosed"),
        ("http\u017f://example.org/long-s", "https://[::1]/bracketed", "mailto:a@example.org"),
        tuple(f"https://example.org/{i}" for i in range(25)),
        (*(f"javascript:{i}" for i in range(5)), *(f"https://example.org/{i}" for i in range(22))),
    ],
)
def test_the_details_keep_the_web_links_only(links):
    assert VulnerabilityDetails.of(ParsedFinding("CVE-2026-1", "p", "1", links=links)).links == (
        web_links(links)
    )


def test_the_details_keep_the_fixtures_web_links():
    for parsed in FINDINGS:
        assert VulnerabilityDetails.of(parsed).links == web_links(parsed.links)
