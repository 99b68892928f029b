from __future__ import annotations

import pytest

from findings.parsers import MIN_DEPTH, ParseError, load_json


def test_valid_body_is_decoded() -> None:
    assert load_json(b'{"a": [1, "\xc3\xa9"]}') == {"a": [1, "é"]}


def test_utf8_bom_is_stripped() -> None:
    assert load_json(b'\xef\xbb\xbf{"SchemaVersion": 2}') == {"SchemaVersion": 2}


def test_invalid_utf8_names_the_byte() -> None:
    with pytest.raises(ParseError, match=r"body is not valid UTF-8 \(byte 7\)"):
        load_json(b'{"a": "\xff"}')


def test_truncated_json_names_line_and_column() -> None:
    with pytest.raises(ParseError, match=r"^not JSON: .* at line 2 column \d+$"):
        load_json(b'{"a":\n [1, 2')


def test_empty_body_is_not_json() -> None:
    with pytest.raises(ParseError, match="not JSON"):
        load_json(b"   ")


def test_trivy_log_lines_before_the_json_are_refused_not_repaired() -> None:
    body = b'2024-01-01T00:00:00Z\tINFO\tVulnerability scanning is enabled\n{"SchemaVersion": 2}'
    with pytest.raises(ParseError, match=r"^not JSON"):
        load_json(body)


def test_nan_is_not_json() -> None:
    with pytest.raises(ParseError, match="not JSON"):
        load_json(b'{"score": NaN}')


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_ten_thousand_deep_nesting_is_refused_without_recursion(opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    with pytest.raises(ParseError, match="nested deeper"):
        load_json(opener * 10_000 + b"1" + closer * 10_000)


def test_nesting_real_reports_use_is_accepted() -> None:
    assert load_json(b"[" * MIN_DEPTH + b"]" * MIN_DEPTH) is not None


def test_lone_surrogate_escape_is_refused() -> None:
    with pytest.raises(ParseError, match="not JSON"):
        load_json(b'{"a": "\\ud800"}')
    with pytest.raises(ParseError, match="not JSON"):
        load_json(b'{"\\udc00": 1}')


def test_a_surrogate_pair_is_one_character() -> None:
    assert load_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_escaped_quotes_decode_in_one_pass() -> None:
    body = b'{"a": "' + b'\\"' * 50_000 + b'"}'
    assert load_json(body) == {"a": '"' * 50_000}


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = '{"a": "' + "[" * 1000 + '\\"{{{"}'
    assert load_json(text.encode()) == {"a": "[" * 1000 + '"{{{'}
