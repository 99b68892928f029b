"""Decode a request body into JSON safely, with msgspec: strict UTF-8, bounded nesting.

msgspec decodes in C, in one linear pass (no pre-scan of the text), and refuses
what PostgreSQL and the drivers could not store later: invalid UTF-8 and lone
surrogate escapes. Nesting is bounded by the decoder itself: it guards every
level with CPython's recursion check and raises RecursionError, at most about
``sys.getrecursionlimit()`` levels (1,000 by default, less the caller's own
frames); real reports nest fewer than 10. NUL (``\\u0000``) is valid JSON: the
parsers drop it from text (``fields.clean``).
"""

from __future__ import annotations

import codecs
import re
from itertools import accumulate

import msgspec

from .base import ParseError

MIN_DEPTH = 64
"""Nesting always accepted; deeper documents may be refused (see the module doc)."""
DEPTH_NOTE = "about 1,000 levels"
BOM = b"\xef\xbb\xbf"
"""A UTF-8 byte-order mark, which a body may start with (dropped before decoding)."""
_DECODER = msgspec.json.Decoder()
_BYTE = re.compile(r"\(byte (\d+)\)")
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
"""A JSON string, escapes included (linear: no backtracking between its two parts)."""
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1


def nesting_exceeds(raw: bytes, limit: int) -> bool:
    """Does this (valid) JSON text nest arrays and objects deeper than ``limit``?

    Strings are dropped first (a bracket inside one is text), then the running depth of
    the brackets left is taken in C-level loops: a few ms a megabyte, and nothing at all
    when the text has fewer brackets than the limit."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def _position(text: bytes, message: str) -> str:
    """msgspec's '(byte N)' as 'line L column C', the way editors count."""
    found = _BYTE.search(message)
    if found is None:
        return message
    offset = min(int(found.group(1)), len(text))
    line = text.count(b"\n", 0, offset) + 1
    column = offset - (text.rfind(b"\n", 0, offset) + 1) + 1
    return f"{message[: found.start()].rstrip()} at line {line} column {column}"


def _reason(raw: bytes, exc: msgspec.MsgspecError) -> str:
    message = str(exc).removeprefix("JSON is malformed: ")
    if message == "Invalid UTF-8 encoded string":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as error:
            return f"body is not valid UTF-8 (byte {error.start})"
        return "body is not valid UTF-8"
    if message == "Input data was truncated":
        message = f"ends early, truncated or a lone \\u surrogate escape (byte {len(raw)})"
    if message.startswith("Number out of range"):
        return "not JSON: a number is beyond a 64-bit float's range"
    return f"not JSON: {_position(raw, message)}"


def is_utf8(raw: bytes, chunk: int = 1 << 20) -> bool:
    """Is ``raw`` valid UTF-8? Checked a megabyte at a time, nothing kept."""
    if raw.isascii():
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    try:
        for start in range(0, len(raw), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_failure(raw: bytes, exc: msgspec.MsgspecError) -> ParseError:
    """The ParseError for msgspec's failure to decode ``raw``, in this module's words."""
    return ParseError(_reason(raw, exc))


def load_json(data: bytes | bytearray | memoryview | str, *, max_depth: int = 0) -> object:
    """Parse a body: strip a UTF-8 BOM, decode strictly, refuse deep nesting
    (past ``max_depth`` levels when given, "JSON nested deeper than N levels").

    Raises ParseError: "body is not valid UTF-8 (byte N)", "not JSON: <why> at
    line L column C", "not JSON: the body is empty", or "JSON nested deeper
    than the decoder allows".
    Bodies with log lines before the JSON (an un-quieted Trivy plugin) are
    refused, not repaired.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    raw = raw.removeprefix(BOM)
    if not raw.strip():
        raise ParseError("not JSON: the body is empty")
    too_deep = f"JSON nested deeper than {max_depth} levels" if max_depth else ""
    try:
        value = _DECODER.decode(raw)
    except RecursionError:
        raise ParseError(
            too_deep or f"JSON nested deeper than the decoder allows ({DEPTH_NOTE})"
        ) from None
    except msgspec.MsgspecError as exc:
        raise decode_failure(raw, exc) from None
    if max_depth and nesting_exceeds(raw, max_depth):
        raise ParseError(too_deep)
    return value
