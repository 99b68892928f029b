"""Property tests (hypothesis): whatever JSON-like value a parser is given, it raises
ParseError or returns a ParsedScan the database can store; the normalisers always
return storable values. Bounded examples keep the suite fast."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from findings.parsers import PARSERS, ParsedScan, ParseError, load_json, parse
from findings.parsers.normalize import parse_datetime
from remediator.core.severity import SEVERITIES
from remediator.core.storable import is_storable_text, storable_json, storable_text, utc_datetime
from tests.conftest import FIXTURES

EXAMPLES = settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
# Text that includes what databases refuse: NUL and lone surrogates, beside ordinary text.
CHARACTERS = st.one_of(
    st.sampled_from(["\x00", "\ud800", "\udfff", "\ufeff", "\u202e", "é", "Z", ":", "@", " "]),
    st.characters(exclude_categories=()),
)
TEXT = st.text(CHARACTERS, max_size=30)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.sampled_from(["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00", "2024-02-30", "0"]),
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=25,
)
SAMPLES = {
    "aqua": "aqua/dd_one_vuln.json",
    "trivy": "trivy/dd_scheme_2_many_vulns.json",
    "grype": "grype/dd_grype_fix_available.json",
    "harbor": "harbor/dd_harbor_report_clair_5.json",
}


def mutated(value: object) -> st.SearchStrategy:
    """A real report with any of its values possibly replaced by anything JSON-like."""
    if isinstance(value, dict):
        return st.fixed_dictionaries({key: mutated(item) for key, item in value.items()})
    if isinstance(value, list):
        return st.tuples(*(mutated(item) for item in value[:2])).map(list)
    return st.one_of(st.just(value), JSON_VALUES)


def sample(source: str) -> object:
    return json.loads((FIXTURES / SAMPLES[source]).read_bytes())


def assert_storable(value: object) -> None:
    if isinstance(value, str):
        assert is_storable_text(value), repr(value)
    elif isinstance(value, tuple | list):
        for item in value:
            assert_storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_storable(key)
            assert_storable(item)


def assert_valid_scan(scan: ParsedScan) -> None:
    assert isinstance(scan, ParsedScan) and scan.source in PARSERS
    for text in (scan.scanner, scan.scan_id, scan.os):
        assert_storable(text)
    if scan.image is not None:
        assert_storable([scan.image.registry, scan.image.repository, scan.image.tag])
        assert_storable(scan.image.digest)
        assert scan.image.repository
    assert_valid_time(scan.scanned_at)
    for finding in scan.findings:
        assert finding.vulnerability_id and finding.severity in SEVERITIES
        assert_storable([finding.vulnerability_id, finding.package, finding.installed_version])
        assert_storable([finding.title, finding.description, finding.cvss_vector])
        assert_storable([finding.package_type, finding.vendor_status])
        assert_storable([*finding.fixed_versions, *finding.links, *finding.locations])
        assert finding.cvss_score is None or math.isfinite(finding.cvss_score)
        assert_valid_time(finding.published_at)


def assert_valid_time(value: datetime | None) -> None:
    if value is not None:
        assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0
        assert 1 < value.year <= 9999


def parses_or_refuses(source: str, document: object) -> None:
    try:
        scan = parse(source, document)
    except ParseError as exc:
        assert str(exc)
        return
    assert_valid_scan(scan)


@EXAMPLES
@given(source=st.sampled_from([*PARSERS, "auto"]), document=JSON_VALUES)
def test_any_json_value_parses_or_is_refused_with_parse_error(source, document):
    parses_or_refuses(source, document)


@EXAMPLES
@given(data=st.data(), source=st.sampled_from(sorted(SAMPLES)))
def test_a_real_report_with_values_replaced_parses_or_is_refused(data, source):
    document = data.draw(mutated(sample(source)))
    parses_or_refuses(source, document)
    parses_or_refuses("auto", document)


GENERIC_FINDING = st.fixed_dictionaries(
    {
        "id": JSON_VALUES,
        "severity": JSON_VALUES,
        "package": JSON_VALUES,
        "version": JSON_VALUES,
        "fixedVersion": JSON_VALUES,
        "cvss": JSON_VALUES,
        "links": JSON_VALUES,
    }
)


@EXAMPLES
@given(
    document=st.fixed_dictionaries(
        {
            "imageName": st.one_of(TEXT, st.just("registry.test/team/app:1.0")),
            "digest": JSON_VALUES,
            "scannedAt": JSON_VALUES,
            "findings": st.lists(GENERIC_FINDING, max_size=3),
        }
    )
)
def test_a_generic_report_of_odd_values_parses_or_is_refused(document):
    parses_or_refuses("generic", document)


@EXAMPLES
@given(
    body=st.one_of(st.binary(max_size=200), TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
)
def test_load_json_returns_a_value_or_raises_parse_error(body):
    try:
        document = load_json(body)
    except ParseError as exc:
        assert str(exc)
        return
    assert_storable(storable_json(document))


@EXAMPLES
@given(value=JSON_VALUES)
def test_storable_json_leaves_nothing_a_database_refuses(value):
    cleaned = storable_json(value)
    assert_storable(cleaned)
    assert storable_json(cleaned) == cleaned


@EXAMPLES
@given(text=TEXT)
def test_storable_text_is_storable_and_idempotent(text):
    cleaned = storable_text(text)
    assert is_storable_text(cleaned) and storable_text(cleaned) == cleaned
    cleaned.encode("utf-8")
    if is_storable_text(text):
        assert cleaned == text


@EXAMPLES
@given(value=LEAVES | st.dictionaries(st.sampled_from(["seconds", "nanos"]), LEAVES))
def test_parse_datetime_gives_none_or_a_utc_time_in_range(value):
    assert_valid_time(parse_datetime(value))


@EXAMPLES
@given(moment=st.datetimes(timezones=st.timezones() | st.just(UTC)))
def test_utc_datetime_is_none_or_utc(moment):
    result = utc_datetime(moment)
    assert result is None or (result.tzinfo is UTC and 1 <= result.year <= 9999)
