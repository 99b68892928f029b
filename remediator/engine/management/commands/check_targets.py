"""``manage.py check_targets [--ping]``: is every build target usable?

Checks the provider, the URL (https unless its host is in PLAIN_HTTP_HOSTS), the
project's shape, GitHub's workflow, that the named secrets have allowed names
(SECRET_ENV_PREFIX or a file in SECRETS_DIR) and are set (names only, never
values); ``--ping`` also asks each CI system whether it answers and accepts
the credentials. Exit status 1 when any target fails.
"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError

from remediator.core.errors import ProviderError
from remediator.core.secrets import MissingSecret, SecretNameRefused, read_target_secret
from remediator.engine.models import BuildTarget, Provider
from remediator.integrations.outbound import outbound_url_problem
from remediator.integrations.providers import provider_for

PROJECT_SHAPES = {
    "github": (re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"), "owner/repo"),
    "gitlab": (
        re.compile(r"^(\d+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+)$"),
        "a numeric id or group/project path",
    ),
    "jenkins": (re.compile(r"^[^/\s]+(/[^/\s]+)*$"), "a job path like folder/job"),
}
URL_OPTIONAL = {"github", "gitlab"}
"""api.github.com and gitlab.com are the providers' defaults."""


def url_problem(url: str) -> str:
    problem = outbound_url_problem(url)
    return f"url {problem}" if problem else ""


def target_problems(target: BuildTarget) -> list[str]:
    """What is wrong with ``target``'s configuration, without calling anything."""
    problems: list[str] = []
    if target.provider not in Provider.values:
        problems.append(f"unknown provider {target.provider!r}")
    if target.url:
        problems.append(url_problem(target.url))
    elif target.provider not in URL_OPTIONAL:
        problems.append("url is required")
    shape = PROJECT_SHAPES.get(target.provider)
    project = target.project.strip()
    if shape and not shape[0].match(project):
        problems.append(f"project {project!r} should be {shape[1]}")
    if target.provider == "github" and not target.workflow:
        problems.append("workflow is required for github")
    if not target.token_env:
        problems.append("token_env names no environment variable")
    for name in (target.token_env, target.api_token_env):
        if name:
            try:
                read_target_secret(name)
            except SecretNameRefused as exc:
                problems.append(f"secret {exc}")
            except MissingSecret:
                problems.append(f"secret {name} is not set")
    return [p for p in problems if p]


def ping_problem(target: BuildTarget) -> str:

    try:
        return provider_for(target).ping()
    except ProviderError as exc:
        return str(exc)


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
            if ping and not problems and (answer := ping_problem(target)):
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
