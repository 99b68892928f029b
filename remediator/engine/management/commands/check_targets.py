"""``manage.py check_targets [--ping]``: is every build target usable?

Checks the provider, the URL (https unless its host is in PLAIN_HTTP_HOSTS), the
project's shape, GitHub's workflow, that the named secrets have allowed names
(SECRET_ENV_PREFIX or a file in SECRETS_DIR) and are set (names only, never
values); ``--ping`` also asks each CI system whether it answers and accepts
the credentials. Exit status 1 when any target fails.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from remediator.engine.models import BuildTarget
from remediator.engine.target_checks import target_ping_problem, target_problems


class Command(BaseCommand):
    help = "Check every build target's configuration (and with --ping, its CI system)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--ping", action="store_true", help="Also call each CI system with its credentials."
        )

    def handle(self, *args, ping: bool, **options) -> None:
        targets = list(BuildTarget.objects.order_by("name"))
        failed = 0
        width = max((len(t.name) for t in targets), default=0)
        for target in targets:
            problems = target_problems(target)
            if ping and not problems and (answer := target_ping_problem(target)):
                problems.append(f"ping: {answer}")
            label = f"{target.name:<{width}}  {target.provider:<8}"
            if not target.enabled:
                label += "  (disabled)"
            if problems:
                failed += 1
                self.stdout.write(f"{label}  FAIL {'; '.join(problems)}")
            else:
                self.stdout.write(f"{label}  OK")
        if not targets:
            self.stdout.write("no build targets")
        if failed:
            raise CommandError(f"{failed} of {len(targets)} build targets failed", returncode=1)
