"""Typed decoding reads every report exactly as plain JSON does.

Each format with a typed decoding (``TYPED_FORMATS``) is checked on every JSON fixture of
every format, and on variants of its own fixtures with one value replaced by each JSON
type: the scans parsed from the typed decoding (or the ParseError's words) equal those
parsed from plain JSON, report heads included. The formats' own fixtures must take the
typed path, not fall back, so the equality is not the plain path compared with itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from findings.parsers import (
    TYPED_FORMATS,
    ParseError,
    load_body,
    load_json,
    parse_all,
    report_head,
)
from findings.parsers.head import without_findings
from findings.parsers.typed import Doc, UndeclaredKey

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ALL_JSON = sorted(p for p in FIXTURES.rglob("*.json") if "schemas" not in p.parts)
OWN = {
    "trivy": sorted((FIXTURES / "trivy").glob("*.json")),
    "grype": sorted((FIXTURES / "grype").glob("*.json")),
    "harbor": sorted((FIXTURES / "harbor").glob("dd_*.json")),
    "trivy-k8s": sorted((FIXTURES / "trivy" / "k8s").glob("*.json")),
    "trivy-operator": sorted((FIXTURES / "trivy" / "operator").glob("*.json")),
    "aqua": sorted(p for p in (FIXTURES / "aqua").glob("*.json") if "simplified" not in p.name),
}
"""Each format's own reports; those whose top level is a format's alternative shape (a
legacy list, a list of YAML documents) are decoded as plain JSON, by design."""
REPLACEMENTS = (None, 7, "x", [], {}, ["x"], [{}], {"x": 1})


def outcome(slug: str, document: object) -> object:
    try:
        return parse_all(slug, document)
    except ParseError as exc:
        return f"ParseError: {exc}"


def head_outcome(slug: str, document: object) -> object:
    try:
        head = report_head(slug, document)
    except ParseError as exc:
        return f"ParseError: {exc}"
    return None if head is None else head.scan


def both_ways(slug: str, raw: bytes) -> tuple[object, object]:
    typed = load_body(slug, raw)
    plain = load_body(slug, raw, typed_decoding=False)
    return typed, plain


@pytest.mark.parametrize("slug", sorted(TYPED_FORMATS))
@pytest.mark.parametrize("path", ALL_JSON, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_parses_the_same_typed_or_plain(slug: str, path: Path) -> None:
    try:
        plain = load_body(slug, path.read_bytes(), typed_decoding=False)
    except ParseError as exc:  # not JSON: refused with the same words either way
        with pytest.raises(ParseError) as typed_error:
            load_body(slug, path.read_bytes())
        assert str(typed_error.value) == str(exc)
        return
    typed = load_body(slug, path.read_bytes())
    assert outcome(slug, typed) == outcome(slug, plain)
    assert head_outcome(slug, typed) == head_outcome(slug, plain)
    assert outcome(slug, without_findings(slug, typed)) == outcome(
        slug, without_findings(slug, plain)
    )


def own_fixtures() -> Iterator[tuple[str, Path]]:
    for slug in sorted(TYPED_FORMATS):
        for path in OWN[slug]:
            yield slug, path


@pytest.mark.parametrize(("slug", "path"), list(own_fixtures()), ids=str)
def test_a_format_s_own_reports_take_the_typed_path(slug: str, path: Path) -> None:
    typed = load_body(slug, path.read_bytes())
    plain_top = json.loads(path.read_bytes())
    if isinstance(plain_top, list) or not plain_top:
        assert not isinstance(typed, Doc)  # alternative shapes and {}: plain JSON
        return
    assert isinstance(typed, Doc), f"{path.name} fell back to plain JSON"


def paths_of(value: object, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path to a value, with at most the first two items of each list."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from paths_of(item, (*prefix, index))


def replaced(document: object, path: tuple, new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, head: replaced(document[head], rest, new)}
    items = list(document)  # type: ignore[call-overload]
    items[head] = replaced(items[head], rest, new)
    return items


def variants(slug: str) -> Iterator[tuple[str, bytes]]:
    """The smallest own fixture with a finding, each value at depth <= 6 replaced in turn."""
    sized = sorted(
        (p for p in OWN[slug] if isinstance(json.loads(p.read_bytes()), dict)),
        key=lambda p: p.stat().st_size,
    )
    document = json.loads(sized[len(sized) // 2].read_bytes())
    for path in paths_of(document):
        if len(path) > 6:
            continue
        for new in REPLACEMENTS:
            yield (
                f"{'/'.join(map(str, path))}={json.dumps(new)}",
                json.dumps(replaced(document, path, new)).encode(),
            )


@pytest.mark.parametrize("slug", sorted(TYPED_FORMATS))
def test_odd_values_anywhere_read_the_same_typed_or_plain(slug: str) -> None:
    checked = typed_count = 0
    for name, raw in variants(slug):
        typed, plain = both_ways(slug, raw)
        typed_count += isinstance(typed, Doc)
        assert outcome(slug, typed) == outcome(slug, plain), name
        assert head_outcome(slug, typed) == head_outcome(slug, plain), name
        checked += 1
    assert checked > 100
    assert typed_count > checked // 3  # most variants still take the typed path


def test_a_parser_reading_an_undeclared_key_fails_loudly_in_these_tests() -> None:
    typed = load_body("trivy", (FIXTURES / "trivy" / "trivy_alpine-39.json").read_bytes())
    assert isinstance(typed, Doc)
    assert typed.get("Results") is not None
    with pytest.raises(UndeclaredKey):
        typed.get("Layer")


def test_elsewhere_an_undeclared_key_reads_as_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("findings.parsers.typed.STRICT", False)
    typed = load_body("trivy", (FIXTURES / "trivy" / "trivy_alpine-39.json").read_bytes())
    assert isinstance(typed, Doc)
    assert "type" not in typed and typed.get("event_data", "none") == "none"
    with pytest.raises(KeyError):
        typed["specversion"]


@pytest.mark.parametrize("number", ["1e400", "1" * 5000])
def test_a_number_beyond_a_float_is_skipped_only_where_the_parser_does_not_read(
    number: str,
) -> None:
    report = json.loads((FIXTURES / "trivy" / "trivy_alpine-39.json").read_bytes())
    expected = parse_all("trivy", report)
    unread = json.dumps(report).replace('"Metadata": {', f'"Metadata": {{"Size": {number}, ', 1)
    assert f'"Size": {number}' in unread
    assert parse_all("trivy", load_body("trivy", unread.encode())) == expected
    with pytest.raises(ParseError, match="not JSON"):
        load_json(unread.encode())

    read = json.dumps(report).replace('"Severity": "', f'"Severity": {number}, "X": "', 1)
    with pytest.raises(ParseError) as refused:
        parse_all("trivy", load_body("trivy", read.encode()))  # when its finding is read
    with pytest.raises(ParseError) as plain:
        load_json(read.encode())
    # the same words; plain decoding's path into the document is longer
    assert str(refused.value).split(" - at ")[0] == str(plain.value).split(" - at ")[0]
    assert "out of range" in str(refused.value) or "beyond" in str(refused.value)


def test_text_that_is_not_utf8_is_refused_even_in_a_key_the_parser_does_not_read() -> None:
    raw = (FIXTURES / "trivy" / "trivy_alpine-39.json").read_bytes()
    broken = raw.replace(b'"Layer": {', b'"Layer": {"Note": "\xff", ', 1)
    assert b"\xff" in broken
    with pytest.raises(ParseError, match="not valid UTF-8"):
        load_body("trivy", broken)


def test_a_yaml_number_past_python_s_digit_limit_is_refused_not_raised() -> None:
    with pytest.raises(ParseError, match="digit limit"):
        load_body("trivy-operator", b"kind: VulnerabilityReport\nreport: " + b"1" * 5000)
