"""Characters that must never pass from outside text into an identifier or a log line.

Outside text (a scan report, an API's answer, a request) may carry characters that
change how the text around them reads: line breaks that start a forged log line or a new
Dockerfile instruction, ANSI escapes that rewrite a terminal, bidirectional overrides that
show ``evil`` as ``live``, zero-width characters that make two names look alike. They are
the Unicode general categories Cc (C0, DEL, C1, NUL), Cf (format: bidi controls and
isolates, zero-width characters, the BOM, tag characters), Zl and Zp (U+2028, U+2029),
plus lone surrogates, which no encoder can write. The list below is those categories as of
Unicode 14 (Python 3.11's ``unicodedata``), written out so that it is the same on every
Python. Pure Python: the parsers and the log filters both use it.
"""

from __future__ import annotations

import re

UNSAFE = re.compile(
    "["
    "\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
    "]"
)
"""One unsafe character: Cc, Cf, Zl, Zp (Unicode 14) or a lone surrogate."""

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def first_unsafe(text: str) -> str | None:
    """The first unsafe character of ``text``, or None. Fast for printable ASCII."""
    if text.isascii() and text.isprintable():
        return None
    found = UNSAFE.search(text)
    return found.group() if found else None


def codepoint(char: str) -> str:
    """``'U+000A'`` for a newline."""
    return f"U+{ord(char):04X}"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short:
        return short
    number = ord(char)
    if number <= 0xFF:
        return f"\\x{number:02x}"
    if number <= 0xFFFF:
        return f"\\u{number:04x}"
    return f"\\U{number:08x}"


def escape_unsafe(text: str) -> str:
    """``text`` with every unsafe character written as a Python-style escape (``\\n``,
    ``\\x1b``, ``\\u202e``): one line, no invisible or reordering characters. Other text,
    backslashes included, is unchanged, so escaping twice changes nothing more."""
    if text.isascii() and text.isprintable():
        return text
    return UNSAFE.sub(_escape, text)


def shown(text: str, limit: int = 40) -> str:
    """``text`` escaped and cut to about ``limit`` characters (an ellipsis marks the cut),
    quoted, for a message that names an outside value: ``"openssl\\n FROM…"``."""
    cut = text[:limit]
    return '"' + escape_unsafe(cut) + ("…" if len(text) > limit else "") + '"'
