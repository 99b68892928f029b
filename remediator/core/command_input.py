"""What a management command reads: a file, or ``-`` for standard input."""

from __future__ import annotations

import sys

from django.core.management.base import CommandError


def command_input(path: str) -> bytes:
    """The bytes of ``path`` (``-``: standard input); CommandError (exit status 2) when
    the file cannot be read."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from exc
