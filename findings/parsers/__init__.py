"""Scan-report parsers: pure Python, no Django.

``parse_all(source, document)`` turns an already-decoded document into the
:class:`~findings.parsers.base.ParsedScan` of each image it reports on: one for
most formats, one per image for the Kubernetes ones (``MULTI_IMAGE``), each
screened once (``screen.py``: findings whose identifiers hold control characters,
absurd lengths or no advisory id are refused and counted);
``parse(source, document)`` is the single-image form. ``load_body(source, body)``
decodes a request body safely first (JSON; YAML too for ``trivy-operator``);
``head.without_findings`` gives a report without its findings, which the parsers
refuse (or read the images of) as they would the whole report. A body of a format with a
typed decoding (``TYPED_FORMATS``, ``typed.py``) is decoded into the fields its parser
reads and nothing else.
Every failure is a :class:`ParseError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from . import aqua, generic, grype, harbor, trivy, trivy_k8s, trivy_operator
from .base import ImageRef, ParsedFinding, ParsedScan, ParseError, Workload
from .detect import detect
from .digest import json_digest
from .fields import is_object
from .head import without_findings
from .jsonload import MIN_DEPTH, load_json
from .screen import screen
from .typed import TypedFormat, decode_typed
from .yamlload import load_yaml

Parser = Callable[[object], ParsedScan | tuple[ParsedScan, ...]]
PARSERS: dict[str, Parser] = {
    "aqua": aqua.parse,
    "trivy": trivy.parse,
    "trivy-k8s": trivy_k8s.parse,
    "trivy-operator": trivy_operator.parse,
    "harbor": harbor.parse,
    "grype": grype.parse,
    "generic": generic.parse,
}
TYPED_FORMATS: dict[str, TypedFormat] = {
    "aqua": aqua.TYPED,
    "trivy": trivy.TYPED,
    "grype": grype.TYPED,
    "harbor": harbor.TYPED,
    "trivy-k8s": trivy_k8s.TYPED,
    "trivy-operator": trivy_operator.TYPED,
}
"""Formats decoded straight into the fields their parser reads, when the body fits. The
generic format is not among them: its parser reads every key the format has."""
MULTI_IMAGE: frozenset[str] = frozenset({"trivy-k8s", "trivy-operator"})
"""Formats that report on several images: one scan each, the workloads recorded."""
YAML_SOURCES: frozenset[str] = frozenset({"trivy-operator"})
DOCUMENT_SOURCES: tuple[str, ...] = ("vex",)
"""Sources that post no scan report: vendors' VEX documents (``parsers/vex``), read by
their own parser and stored as statements, never as scans."""
SOURCES: tuple[str, ...] = (*PARSERS, "auto", *DOCUMENT_SOURCES)


def parse_all(source: str, document: object) -> tuple[ParsedScan, ...]:
    """Every image's scan in ``document`` as ``source`` (a PARSERS slug, or 'auto')."""
    slug = detect(document) if source == "auto" else source
    parser = PARSERS.get(slug) if isinstance(slug, str) else None
    if parser is None:
        raise ParseError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    parsed = parser(document)
    scans = (parsed,) if isinstance(parsed, ParsedScan) else parsed
    return tuple(screen(scan) for scan in scans)  # one check of report text, every format


def parse(source: str, document: object) -> ParsedScan:
    """The one scan in ``document``; ParseError when it reports on several images."""
    scans = parse_all(source, document)
    if len(scans) != 1:
        raise ParseError(f"the report holds {len(scans)} image scans, not one")
    return scans[0]


FINDINGS_KEYS: dict[str, str] = {"trivy": "Results", "grype": "matches", "generic": "findings"}
"""Single-image formats whose findings sit under one top-level key (for ``report_head``)."""


class ReportHead(NamedTuple):
    scan: ParsedScan
    """The report without its findings."""
    findings_digest: str
    """A digest of its findings as sent."""


def report_head(source: str, document: object) -> ReportHead | None:
    """The report's head, for the formats of FINDINGS_KEYS; None for the others. A
    re-scan whose findings digest equals its scanner's newest scan of the tag needs no
    parse of its findings."""
    slug = detect(document) if source == "auto" else source
    key = FINDINGS_KEYS.get(slug)
    if key is None or not is_object(document) or not isinstance(document.get(key), list):
        return None
    return ReportHead(parse(slug, without_findings(slug, document)), json_digest(document[key]))


def load_body(
    source: str, body: bytes | bytearray | memoryview | str, *, typed_decoding: bool = True
) -> object:
    """A request body decoded as JSON, or as YAML for the formats that come as YAML; into
    the fields its parser reads when ``source`` has a typed decoding the body fits (unless
    ``typed_decoding`` is False)."""
    typed = TYPED_FORMATS.get(source) if typed_decoding else None
    if typed is not None and not isinstance(body, str):
        document = decode_typed(bytes(body), typed)
        if document is not None:
            return document
    try:
        return load_json(body)
    except ParseError:
        if source not in YAML_SOURCES:
            raise
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
    return load_yaml(raw)


__all__ = [
    "DOCUMENT_SOURCES",
    "MIN_DEPTH",
    "MULTI_IMAGE",
    "PARSERS",
    "SOURCES",
    "TYPED_FORMATS",
    "ImageRef",
    "ParseError",
    "ParsedFinding",
    "ParsedScan",
    "ReportHead",
    "Workload",
    "detect",
    "load_body",
    "load_json",
    "parse",
    "parse_all",
    "report_head",
]
