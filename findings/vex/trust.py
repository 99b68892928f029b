"""Whose statements count: ``VEX_TRUSTED_AUTHORS``, a list of fnmatch globs over a
document's author (OpenVEX author, CSAF publisher name, CycloneDX manufacturer or
supplier), compared ignoring case. Empty (the default): nobody is trusted, and every
statement is shown but changes nothing."""

from __future__ import annotations

from fnmatch import fnmatchcase

from django.conf import settings


def trusted_patterns() -> tuple[str, ...]:
    return tuple(p.strip().lower() for p in settings.VEX_TRUSTED_AUTHORS if p.strip())


def author_trusted(author: str, patterns: tuple[str, ...] | None = None) -> bool:
    patterns = trusted_patterns() if patterns is None else patterns
    name = author.strip().lower()
    return bool(name) and any(fnmatchcase(name, pattern) for pattern in patterns)
