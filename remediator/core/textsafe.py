"""Characters that must never pass from outside text into an identifier or a log line.

Outside text (a scan report, an API's answer, a request) may carry characters that
change how the text around them reads: line breaks that start a forged log line or a new
Dockerfile instruction, ANSI escapes that rewrite a terminal, bidirectional overrides that
show ``evil`` as ``live``, zero-width characters that make two names look alike. They are
the Unicode general categories Cc (C0, DEL, C1, NUL), Cf (format: bidi controls and
isolates, zero-width characters, the BOM, tag characters), Zl and Zp (U+2028, U+2029),
plus lone surrogates, which no encoder can write. The set is read from the running
Python's ``unicodedata`` at import, over the planes where Unicode puts such characters
(0, 1 and 14; about 10 ms). Pure Python: the parsers and the log filters both use it.
"""

from __future__ import annotations

import re
import unicodedata

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_PLANES = (range(0x0000, 0x20000), range(0xE0000, 0xE1000))


def _character_class() -> str:
    ranges: list[tuple[int, int]] = [(0xD800, 0xDFFF)]  # lone surrogates
    for plane in _PLANES:
        for number in plane:
            if 0xD800 <= number <= 0xDFFF:
                continue
            if unicodedata.category(chr(number)) in UNSAFE_CATEGORIES:
                if ranges[-1][1] == number - 1:
                    ranges[-1] = (ranges[-1][0], number)
                else:
                    ranges.append((number, number))
    return "".join(
        re.escape(chr(low)) + ("-" + re.escape(chr(high)) if high > low else "")
        for low, high in ranges
    )


UNSAFE = re.compile(f"[{_character_class()}]")
"""One unsafe character: Cc, Cf, Zl, Zp or a lone surrogate."""

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
