"""Decode a request body into JSON safely: strict UTF-8, bounded nesting."""

from __future__ import annotations

import json
import re

from .base import ParseError

MAX_DEPTH = 64
_BOM = b"\xef\xbb\xbf"
# A JSON string (skipped whole) or a bracket; anything else is irrelevant to depth.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _check_depth(text: str, limit: int = MAX_DEPTH) -> None:
    """Refuse nesting deeper than ``limit`` before json.loads can recurse into it."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                raise ParseError(f"JSON nested deeper than {limit} levels")
        elif token in "]}":
            depth -= 1


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def load_json(data: bytes | bytearray | memoryview | str) -> object:
    """Parse a body: strip a UTF-8 BOM, decode strictly, cap nesting at 64, parse.

    Raises ParseError: "body is not valid UTF-8 (byte N)", "not JSON: <msg> at
    line L column C", or "JSON nested deeper than 64 levels". Bodies with log
    lines before the JSON (an un-quieted Trivy plugin) are refused, not repaired.
    """
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        raw = bytes(data)
        raw = raw.removeprefix(_BOM)
        try:
            text = raw.decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise ParseError(f"body is not valid UTF-8 (byte {exc.start})") from None
    if not text.strip():
        raise ParseError("not JSON: the body is empty")
    _check_depth(text)
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError as exc:
        raise ParseError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
