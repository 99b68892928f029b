"""Is a build target usable? Its configuration, its secrets (names only), its CI system.

One home for what ``manage.py check_targets``, ``manage.py check_setup``, the go-live
checklist and the approval gate ask of a target: :func:`target_problems` (nothing is
called), :func:`target_secret_problems` (the part of it a dispatch cannot do without),
:func:`target_ping_problem` (one call to the CI system), and which enabled target
covers an image (:func:`target_covering`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from remediator.core.errors import ProviderError
from remediator.core.secrets import MissingSecret, SecretNameRefused, read_target_secret
from remediator.engine.models import BuildTarget, Provider
from remediator.engine.rules.criteria import image_matches
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


def _secret_names(target: BuildTarget, kind: str) -> tuple[str, list[str]]:
    """(the field a ``kind`` of action cannot do without, the secret names it reads)."""
    if kind == "pull_request" and target.provider == "gitlab":
        return "api_token_env", [target.api_token_env]  # merge requests: the API token only
    return "token_env", [target.token_env, target.api_token_env]


def target_secret_problems(target: BuildTarget, *, kind: str = "") -> list[str]:
    """Why the target's secrets cannot be read (names only, never a value); [] when set.
    ``kind``: only the secrets that kind of action uses ('' : every one it names)."""
    required, names = _secret_names(target, kind)
    problems: list[str] = []
    if not getattr(target, required):
        problems.append(f"{required} names no environment variable")
    for name in names:
        if name:
            try:
                read_target_secret(name)
            except SecretNameRefused as exc:
                problems.append(f"secret {exc}")
            except MissingSecret:
                problems.append(f"secret {name} is not set")
    return problems


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
    problems += target_secret_problems(target)
    return [p for p in problems if p]


def target_ping_problem(target: BuildTarget) -> str:
    """'' when the target's CI system answers and accepts its credentials, else why not."""
    try:
        return provider_for(target).ping()
    except ProviderError as exc:
        return str(exc)


def target_covering(repository: str, targets: Iterable[BuildTarget]) -> BuildTarget | None:
    """The first of ``targets`` (enabled ones, by id) whose patterns match ``repository``
    ("registry/repository")."""
    for target in targets:
        if any(image_matches(str(p), repository) for p in target.image_patterns or ()):
            return target
    return None


def targets_enabled() -> list[BuildTarget]:
    """Enabled build targets in the order dispatch tries them."""
    return list(BuildTarget.objects.filter(enabled=True).order_by("id"))


def target_of_action(
    own: BuildTarget | None, repository: str, enabled: Callable[[], Iterable[BuildTarget]]
) -> BuildTarget | None:
    """The target an action dispatches with: its own when enabled, else the first enabled
    one covering ``repository`` (``enabled`` is only called then)."""
    if own is not None and own.enabled:
        return own
    return target_covering(repository, enabled())
