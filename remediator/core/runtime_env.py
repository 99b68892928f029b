"""What each role of the container image needs from its environment, checked before
Django starts: ``python -m remediator.core.runtime_env ROLE``.

A container that starts without a secret it needs should stop at once, naming the
setting, rather than serve with a generated key (each replica would sign sessions with
its own), fall back to the embedded SQLite database (each container its own data) or
answer every admission review 401. Exit status 78 (EX_CONFIG) and one line per problem
on stderr; nothing here reads or prints a secret's value.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

ROLES = ("web", "admission", "worker", "beat", "migrate")
SECRETS_READ_FROM_FILES = (
    "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "ADMISSION_TOKEN",
    "METRICS_TOKEN", "DJANGO_SUPERUSER_PASSWORD", "AQUA_PASSWORD", "AQUA_API_KEY",
    "AQUA_API_SECRET", "HARBOR_PASSWORD", "SLACK_WEBHOOK_URL", "KUBERNETES_TOKEN",
    "OIDC_CLIENT_SECRET", "VEX_REPOSITORY_TOKEN",
)  # fmt: skip
"""Settings Remediator reads from NAME_FILE as well (webhook and build-target secrets too:
the prefixes below). Other ``*_FILE`` variables in a container's environment belong to
other programs and are none of the start check's business."""
SECRET_PREFIXES = ("WEBHOOK_SECRET", "REMEDIATOR_SECRET_")
PATH_SETTINGS = (
    "TLS_CERT_FILE", "TLS_KEY_FILE", "REGISTRY_AUTH_FILE", "AQUA_CA_BUNDLE", "REGISTRY_CA_BUNDLE",
    "KUBERNETES_CA_BUNDLE",
)  # fmt: skip
"""Settings that name a file Remediator opens."""
_BROKER_ROLES = ("web", "worker", "beat")  # admission and migrate never publish a task
EX_CONFIG = 78


def _given(environ: Mapping[str, str], name: str) -> bool:
    return bool(environ.get(name, "").strip() or environ.get(f"{name}_FILE", "").strip())


def _true(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def environment_problems(role: str, environ: Mapping[str, str]) -> list[str]:
    """One sentence per missing or unusable setting for ``role``: name, then the fix."""
    if role not in ROLES:
        return [f"unknown role {role!r}: one of {', '.join(ROLES)}"]
    problems = []
    if not _given(environ, "SECRET_KEY"):
        problems.append(
            "SECRET_KEY is not set: give every role the same long random string "
            "(or SECRET_KEY_FILE naming a file that holds it)"
        )
    if not _given(environ, "DATABASE_URL"):
        problems.append(
            "DATABASE_URL is not set: postgres://USER:PASSWORD@HOST:5432/NAME, the same "
            "for every role (the embedded SQLite default is for make run on one machine)"
        )
    if role in _BROKER_ROLES and not _given(environ, "CELERY_BROKER_URL"):
        problems.append(
            "CELERY_BROKER_URL is not set: redis://HOST:6379/0 (or amqp://...), the same "
            "for web, worker and beat"
        )
    if (
        role == "admission"
        and not _given(environ, "ADMISSION_TOKEN")
        and not _true(environ, "ADMISSION_ALLOW_UNAUTHENTICATED")
    ):
        problems.append(
            "ADMISSION_TOKEN is not set: the bearer token the API server sends "
            "(or ADMISSION_ALLOW_UNAUTHENTICATED=true behind an mTLS-checking proxy)"
        )
    if role in ("web", "admission") and (
        bool(environ.get("TLS_CERT_FILE")) != bool(environ.get("TLS_KEY_FILE"))
    ):
        problems.append("TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither")
    for name in sorted(environ):
        path = environ[name]
        if path and _read_by_remediator(name) and not os.access(path, os.R_OK):
            problems.append(f"{name} names {path!r}, which this container cannot read")
    return problems


def _read_by_remediator(name: str) -> bool:
    if name in PATH_SETTINGS:
        return True
    secret = name.removesuffix("_FILE")
    return secret != name and (
        secret in SECRETS_READ_FROM_FILES or secret.startswith(SECRET_PREFIXES)
    )


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else "web"
    problems = environment_problems(role, os.environ)
    for problem in problems:
        print(f"remediator {role}: {problem}", file=sys.stderr)
    return EX_CONFIG if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
