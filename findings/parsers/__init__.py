"""Scan-report parsers: pure Python, no Django.

``parse(source, document)`` turns an already-decoded JSON document into a
:class:`~findings.parsers.base.ParsedScan`; ``load_json(body)`` decodes a
request body safely first. Every failure is a :class:`ParseError`.
"""

from __future__ import annotations

from collections.abc import Callable

from . import aqua, generic, grype, harbor, trivy
from .base import ImageRef, ParsedFinding, ParsedScan, ParseError
from .detect import detect
from .jsonload import MIN_DEPTH, load_json

PARSERS: dict[str, Callable[[object], ParsedScan]] = {
    "aqua": aqua.parse,
    "trivy": trivy.parse,
    "harbor": harbor.parse,
    "grype": grype.parse,
    "generic": generic.parse,
}
SOURCES: tuple[str, ...] = (*PARSERS, "auto")


def parse(source: str, document: object) -> ParsedScan:
    """Parse ``document`` as ``source`` (a PARSERS slug, or 'auto' to detect it)."""
    slug = detect(document) if source == "auto" else source
    parser = PARSERS.get(slug) if isinstance(slug, str) else None
    if parser is None:
        raise ParseError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    return parser(document)


__all__ = [
    "MIN_DEPTH",
    "PARSERS",
    "SOURCES",
    "ImageRef",
    "ParseError",
    "ParsedFinding",
    "ParsedScan",
    "detect",
    "load_json",
    "parse",
]
