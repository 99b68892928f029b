"""No parser may raise anything but ParseError on any JSON input.

Each report fixture is mutated at a sample of its paths (every value replaced by
values of other JSON types) and fed to its own parser and to every other parser.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import pytest

from findings.parsers import PARSERS, ParsedScan, ParseError, parse

from .conftest import FIXTURES, fixture_document, report_paths

REPLACEMENTS: tuple[Any, ...] = (
    None,
    "x",
    "",
    7,
    -1.5,
    True,
    [],
    {},
    ["x"],
    [{}],
    {"a": None},
    10**400,  # an integer too large for a float
    "\u00b2",  # a digit that int() refuses
)
FILES = sorted((p.parent.name, p.name) for p in report_paths())
PATHS_PER_FILE = 40


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            yield from _paths(item, (*prefix, index))


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


def _parses_or_refuses(slug: str, document: object) -> None:
    try:
        result = PARSERS[slug](document)
    except ParseError:
        return
    scans = result if isinstance(result, tuple) else (result,)
    assert all(isinstance(scan, ParsedScan) for scan in scans)


@pytest.mark.parametrize(("slug", "name"), FILES, ids=[f"{s}/{n}" for s, n in FILES])
def test_mutated_fixture_never_crashes_a_parser(slug: str, name: str) -> None:
    document = fixture_document(slug, name)
    paths = list(_paths(document))
    rng = random.Random(name)
    for path in rng.sample(paths, min(PATHS_PER_FILE, len(paths))):
        for new in REPLACEMENTS:
            _parses_or_refuses(slug, _replace(document, path, new))


@pytest.mark.parametrize(("slug", "name"), FILES, ids=[f"{s}/{n}" for s, n in FILES])
def test_every_parser_refuses_or_accepts_every_fixture_cleanly(slug: str, name: str) -> None:
    document = fixture_document(slug, name)
    for other in PARSERS:
        _parses_or_refuses(other, document)
    with contextlib.suppress(ParseError):
        parse("auto", document)


@pytest.mark.parametrize("document", [*REPLACEMENTS, [[[]]], {"Results": [None, 1, "x"]}])
def test_every_parser_handles_odd_top_level_values(document: object) -> None:
    for slug in PARSERS:
        _parses_or_refuses(slug, document)


MULTI_FILES = sorted(
    [("trivy-k8s", f"k8s/{p.name}") for p in (FIXTURES / "trivy" / "k8s").glob("*.json")]
    + [
        ("trivy-operator", f"operator/{p.name}")
        for p in (FIXTURES / "trivy" / "operator").glob("*.json")
    ]
)


@pytest.mark.parametrize(("slug", "name"), MULTI_FILES, ids=[n for _, n in MULTI_FILES])
def test_mutated_kubernetes_report_never_crashes_a_parser(slug: str, name: str) -> None:
    document = fixture_document("trivy", name)
    paths = list(_paths(document))
    rng = random.Random(name)
    for path in rng.sample(paths, min(PATHS_PER_FILE, len(paths))):
        for new in REPLACEMENTS:
            mutated = _replace(document, path, new)
            for other in PARSERS:
                _parses_or_refuses(other, mutated)
