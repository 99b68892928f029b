"""One log record, one line: no outside text can forge, split or recolour a log line.

A break-glass reason, an image or package name, an outside API's error message may hold
``\\n``, ``\\r``, ANSI escapes (``\\x1b[``), U+2028 or bidi overrides. Written as they are,
``"...\\n2026-01-01 00:00:00 ERROR forged"`` becomes a second log line that no one wrote.
:class:`OneLineFilter` is installed on every handler of Django's ``LOGGING`` (web
processes, Celery workers and beat, which log through it) and on gunicorn's access and
error logs, after :class:`remediator.core.redact.RedactSecretsFilter`. It rewrites each
record in place:

- the message (arguments merged in; each atom of gunicorn's access log) and every extra
  field holding text get their unsafe characters escaped (``remediator.core.textsafe``:
  ``\\n``, ``\\x1b``, ``\\u2028``): the message is one line;
- a traceback (and ``stack_info``) keeps its own line breaks, but each of its lines is
  indented and escaped within itself, so an exception message cannot start a line that
  reads as a record of its own: every line after a record's first starts with spaces.

The JSON format (``LOG_FORMAT=json``) is one object a line whatever the text; it also
writes the characters JSON would leave raw (C1, U+2028, bidi) as ``\\uXXXX``
(:func:`json_safe`). Pure Python.
"""

from __future__ import annotations

import logging

from .textsafe import UNSAFE, escape_unsafe

CONTINUATION = "    "
"""What each traceback line after the first starts with."""
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}
_DONE = "_one_line"


def continued(text: str) -> str:
    """A multi-line text (a traceback) with each line escaped and every line after the
    first indented."""
    lines = text.split("\n")
    return ("\n" + CONTINUATION).join(escape_unsafe(line) for line in lines)


def one_line(record: logging.LogRecord) -> None:
    """Escape ``record``'s message, text arguments and extra fields, and indent its
    traceback, in place (once: a record may pass several handlers)."""
    if getattr(record, _DONE, False):
        return
    if isinstance(record.args, dict):  # gunicorn's access log: a dict of atoms
        record.args = {
            key: escape_unsafe(value) if isinstance(value, str) else value
            for key, value in record.args.items()
        }
        if isinstance(record.msg, str):
            record.msg = escape_unsafe(record.msg)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: leave it to logging's own error handling
            message = None
        if message is not None:
            record.msg, record.args = escape_unsafe(message), ()
    for name, value in list(vars(record).items()):
        if name not in _STANDARD and isinstance(value, str):
            setattr(record, name, escape_unsafe(value))
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:  # the formatter writes it on the lines after the message
        record.exc_text = CONTINUATION + continued(record.exc_text)
    if record.stack_info:
        record.stack_info = CONTINUATION + continued(record.stack_info)
    setattr(record, _DONE, True)


class OneLineFilter(logging.Filter):
    """A logging filter: each record's outside text cannot break out of its line."""

    def filter(self, record: logging.LogRecord) -> bool:
        one_line(record)
        return True


def _json_escape(match) -> str:
    number = ord(match.group())
    if number <= 0xFFFF:
        return f"\\u{number:04x}"
    number -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters past U+FFFF
    return f"\\u{0xD800 + (number >> 10):04x}\\u{0xDC00 + (number & 0x3FF):04x}"


def json_safe(encoded: str) -> str:
    """A JSON text with every unsafe character that ``json.dumps(ensure_ascii=False)``
    leaves raw written as a ``\\uXXXX`` escape (still the same JSON value)."""
    if encoded.isascii() and encoded.isprintable():
        return encoded
    return UNSAFE.sub(_json_escape, encoded)
