"""Secrets are referenced by environment variable name, never stored or shown."""

from __future__ import annotations

import os
from pathlib import Path


class MissingSecret(LookupError):
    """The named environment variable (and its _FILE variant) is not set."""


def read_secret(name: str, *, required: bool = True) -> str:
    """The value of ``name`` from the environment, or from the file named by ``name_FILE``."""
    path = os.environ.get(f"{name}_FILE", "")
    if path:
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise MissingSecret(f"{name}_FILE points to an unreadable file") from exc
    value = os.environ.get(name, "")
    if not value and required:
        raise MissingSecret(f"environment variable {name} is not set")
    return value
