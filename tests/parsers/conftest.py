"""Helpers for the parser tests. Nothing Django-specific: run with ``-p no:django``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from findings.parsers import load_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOT_REPORTS = {"threat_intel", "admission", "inventory"}
"""Fixture folders of other feeds (EPSS, KEV) and Kubernetes payloads (tests/admission/),
not scanner reports."""


def report_fixtures() -> list[Path]:
    """Every scanner report fixture one folder deep (``<source>/<name>.json``)."""
    return [p for p in FIXTURES.glob("*/*.json") if p.parent.name not in NOT_REPORTS]


def fixture_document(slug: str, name: str) -> object:
    """A fixture file decoded the way the API will decode a request body."""
    return load_json((FIXTURES / slug / name).read_bytes())


@pytest.fixture
def load_fixture() -> Callable[[str, str], object]:
    return fixture_document


@pytest.fixture(autouse=True)
def strict_typed_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser that reads a key its typed decoding does not declare fails here."""
    monkeypatch.setattr("findings.parsers.typed.STRICT", True)
