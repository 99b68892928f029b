"""VEX documents (vendor statements about vulnerabilities): pure Python, no Django.

``load_vex(body)`` decodes a body (``jsonload``, nesting bounded) and reads it as the
format it is: ``detect`` tells OpenVEX (its ``@context``), CSAF (``document.csaf_version``)
and CycloneDX (``bomFormat``) apart, and the format's parser returns one
:class:`VexDocument`. Every failure is a ParseError naming where and what.
"""

from __future__ import annotations

from collections.abc import Callable

from ..base import ParseError
from ..fields import type_name
from ..jsonload import load_json
from . import csaf, cyclonedx, openvex
from .base import (
    JUSTIFICATIONS,
    MAX_DEPTH,
    STATUSES,
    VexDocument,
    VexProduct,
    VexStatement,
    version_key,
)

VEX_PARSERS: dict[str, Callable[[object], VexDocument]] = {
    "openvex": openvex.parse,
    "csaf": csaf.parse,
    "cyclonedx": cyclonedx.parse,
}


def detect(document: object) -> str:
    """The VEX format of ``document``; ParseError when it is none of them."""
    if openvex.is_openvex(document):
        return "openvex"
    if csaf.is_csaf(document):
        return "csaf"
    if cyclonedx.is_cyclonedx(document):
        return "cyclonedx"
    raise ParseError(
        'not a VEX document: expected OpenVEX ("@context": "https://openvex.dev/ns/..."), '
        'CSAF 2.0 ("document" with "csaf_version") or CycloneDX ("bomFormat": '
        f'"CycloneDX"); found {type_name(document)}'
    )


def parse_vex(document: object) -> VexDocument:
    return VEX_PARSERS[detect(document)](document)


def load_vex(body: bytes | bytearray | memoryview | str) -> VexDocument:
    return parse_vex(load_json(body, max_depth=MAX_DEPTH))


__all__ = [
    "JUSTIFICATIONS",
    "STATUSES",
    "VEX_PARSERS",
    "VexDocument",
    "VexProduct",
    "VexStatement",
    "detect",
    "load_vex",
    "parse_vex",
    "version_key",
]
