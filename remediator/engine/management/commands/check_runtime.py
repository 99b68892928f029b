"""``manage.py check_runtime --role ROLE``: the container image's start check.

Fails fast (exit 78, one line per problem) when a setting the role needs is missing
(``remediator/core/runtime_env.py``), then waits up to ``--wait`` seconds
(STARTUP_WAIT_SECONDS, default 60) for the database and, for web, admission, worker and
beat, for the migrations the migrate role applies (exit 69 when they do not come).
Prints one line when all is well.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError, CommandParser

from remediator.core.runtime_env import EX_CONFIG, ROLES, environment_problems
from remediator.engine.runtime_readiness import (
    database_error,
    database_where,
    unapplied_migrations,
    wait_until,
)

EX_UNAVAILABLE = 69


class Command(BaseCommand):
    help = "Check what a container role needs before it starts: settings, database, schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--role", choices=ROLES, default="web")
        parser.add_argument(
            "--wait",
            type=float,
            default=float(os.environ.get("STARTUP_WAIT_SECONDS", "60")),
            help="seconds to wait for the database and the migrations (default 60)",
        )

    def handle(self, *args, role: str, wait: float, **options) -> None:
        problems = environment_problems(role, os.environ)
        if problems:
            for problem in problems:
                self.stderr.write(f"remediator {role}: {problem}")
            raise CommandError(f"{len(problems)} setting(s) missing", returncode=EX_CONFIG)
        where = database_where()
        error = wait_until(database_error, wait)
        if error:
            raise CommandError(
                f"the database at {where} did not answer within {wait:g} s ({error})",
                returncode=EX_UNAVAILABLE,
            )
        if role != "migrate":
            pending = wait_until(_pending_migrations, wait)
            if pending:
                raise CommandError(
                    f"{pending}: run the migrate role first (it exits when the schema is "
                    "current), then start this one",
                    returncode=EX_UNAVAILABLE,
                )
        self.stdout.write(f"remediator {role}: settings present, database {where} answers")


def _pending_migrations() -> str:
    pending = unapplied_migrations()
    if not pending:
        return ""
    return f"{len(pending)} migration(s) not applied (first: {pending[0]})"
