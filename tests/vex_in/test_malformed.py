"""Malformed documents are refused by the parser with the path and the problem."""

from __future__ import annotations

import pytest

from findings.parsers.base import ParseError
from findings.parsers.vex import load_vex

from .malformed import MALFORMED


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_document_is_refused_naming_where(name):
    body, message = MALFORMED[name]
    with pytest.raises(ParseError) as refused:
        load_vex(body)
    assert message in str(refused.value)


def test_deep_nesting_is_refused_before_it_is_read():
    body = b'{"@context": "https://openvex.dev/ns/v0.2.0", "x": ' + b"[" * 100 + b"]" * 100 + b"}"
    with pytest.raises(ParseError, match="nested deeper than 64 levels"):
        load_vex(body)


def test_more_statements_than_the_bound_are_refused(monkeypatch):
    from findings.parsers.vex import openvex

    monkeypatch.setattr(openvex, "MAX_STATEMENTS", 3)
    body = MALFORMED["openvex_unknown_status"][0].replace(b'"maybe"', b'"fixed"')
    with pytest.raises(ParseError, match="statements: 5 statements: more than the 3 accepted"):
        load_vex(body)
