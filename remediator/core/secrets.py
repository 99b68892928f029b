"""Secrets are referenced by name, never stored or shown.

Two kinds of names:

- settings' own secrets (``WEBHOOK_SECRET_*``, ``HARBOR_PASSWORD``, ``AQUA_PASSWORD``,
  ``SLACK_WEBHOOK_URL``...) are fixed names read by :func:`read_secret`;
- names chosen by whoever edits a build target (``token_env``, ``api_token_env``) are
  *target secrets*: they must start with ``SECRET_ENV_PREFIX`` (default
  ``REMEDIATOR_SECRET_``; read from the environment or ``NAME_FILE``) or name a file in
  ``SECRETS_DIR``. Anything else is refused by :func:`target_secret_problem`, so a
  build target cannot send ``HARBOR_PASSWORD`` or ``DATABASE_URL`` to its CI system.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from django.conf import settings

DEFAULT_PREFIX = "REMEDIATOR_SECRET_"
SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
"""A variable or file name: no '.', '/', spaces or control characters."""


class MissingSecret(LookupError):
    """The named environment variable (and its _FILE variant) is not set."""


class SecretNameRefused(MissingSecret):
    """A build target names a secret outside the allowed prefix and secrets directory."""


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


def webhook_secret_names(source: str) -> tuple[str, str]:
    """The settings that may hold ``source``'s webhook secrets, its own first:
    ``WEBHOOK_SECRET_TRIVY_K8S`` for ``trivy-k8s`` (environment names hold no '-')."""
    return (f"WEBHOOK_SECRET_{source.upper().replace('-', '_')}", "WEBHOOK_SECRET")


def secret_prefix() -> str:
    return getattr(settings, "SECRET_ENV_PREFIX", "") or DEFAULT_PREFIX


def secrets_dir() -> Path | None:
    configured = getattr(settings, "SECRETS_DIR", "")
    return Path(configured) if configured else None


def _dir_file(name: str) -> Path | None:
    """``SECRETS_DIR/name`` when it is a file (``name`` already checked)."""
    directory = secrets_dir()
    if directory is None:
        return None
    path = directory / name
    return path if path.is_file() else None


def target_secret_problem(name: str) -> str:
    """'' when a build target may use the secret ``name``, else why not (names only)."""
    prefix = secret_prefix()
    where = f"a variable named {prefix}…"
    if secrets_dir() is not None:
        where += " or a file in SECRETS_DIR"
    if not SECRET_NAME.fullmatch(name or ""):
        return f"{name!r} is not a secret name (letters, digits and '_'); use {where}"
    if name.startswith(prefix) and name != prefix:
        return ""
    if _dir_file(name) is not None:
        return ""
    return f"{name} is not an allowed secret name: use {where}"


def read_target_secret(name: str) -> str:
    """A build target's secret: ``SecretNameRefused`` for a name outside the rules,
    ``MissingSecret`` when it is not set; both name the variable, never a value."""
    problem = target_secret_problem(name)
    if problem:
        raise SecretNameRefused(problem)
    if name.startswith(secret_prefix()) and (
        os.environ.get(name) or os.environ.get(f"{name}_FILE")
    ):
        return read_secret(name)
    path = _dir_file(name)
    if path is not None:
        try:
            value = path.read_text().strip()
        except OSError as exc:
            raise MissingSecret(f"SECRETS_DIR/{name} cannot be read") from exc
        if value:
            return value
        raise MissingSecret(f"SECRETS_DIR/{name} is empty")
    raise MissingSecret(f"environment variable {name} is not set")
