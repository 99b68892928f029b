"""Can an action be carried out once approved? The build target it will use, and what
is missing before it could be dispatched.

The approval gate refuses an action that cannot be dispatched (``action_approve``), and
every card that offers to approve one shows the same answer: the target that will be
used, whether its secrets are set, or that no enabled target matches the image.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from remediator.engine.models import ActionKind, BuildTarget, RemediationAction
from remediator.engine.target_checks import (
    target_of_action,
    target_problems,
    target_secret_problems,
    targets_enabled,
)
from remediator.integrations.aqua.client import AquaClient
from remediator.integrations.providers import PULL_HOSTS

NEEDS_TARGET = (ActionKind.REBUILD, ActionKind.PULL_REQUEST)
NEEDS_AQUA = (ActionKind.RESCAN, ActionKind.MARK_RISKY)


@dataclass(frozen=True)
class Readiness:
    """What dispatching an action would use, and what stops it.

    ``blockers`` are why a dispatch would fail at once (approving is refused);
    ``warnings`` are other problems ``check_targets`` reports about the target.
    ``overridable``: every blocker is a secret this process cannot read, which a worker
    with a different environment might (an explicit "approve anyway" may pass it).
    """

    kind: str
    repository: str
    target: BuildTarget | None = None
    needs_target: bool = False
    secrets_set: bool = False
    blockers: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    overridable: bool = False
    what_to_configure: str = field(default="")

    @property
    def ready(self) -> bool:
        return not self.blockers

    @property
    def summary(self) -> str:
        """One sentence: what approving would do, or why it cannot be dispatched."""
        if self.blockers:
            return "Cannot be dispatched: " + "; ".join(self.blockers) + "."
        if self.target is not None:
            return f"Build target {self.target.name}: secrets set."
        return ""


def _target_readiness(
    kind: str, repository: str, target: BuildTarget | None, secret_problems: list[str]
) -> Readiness:
    what = "a build target" if kind == ActionKind.REBUILD else "a GitHub or GitLab build target"
    if target is None:
        return Readiness(
            kind=kind,
            repository=repository,
            needs_target=True,
            blockers=(f"no enabled build target matches {repository}",),
            what_to_configure=f"add {what} whose image patterns match {repository}",
        )
    blockers: list[str] = []
    if kind == ActionKind.PULL_REQUEST and target.provider not in PULL_HOSTS:
        blockers.append(
            f"build target {target.name} is {target.provider}, which cannot open pull requests"
        )
    blockers += [f"build target {target.name}: {p}" for p in secret_problems]
    unused = set(target_secret_problems(target))  # secrets this kind does not read
    others = [p for p in target_problems(target) if p not in unused]
    return Readiness(
        kind=kind,
        repository=repository,
        target=target,
        needs_target=True,
        secrets_set=not secret_problems,
        blockers=tuple(blockers),
        warnings=tuple(f"build target {target.name}: {p}" for p in others),
        overridable=bool(secret_problems) and len(blockers) == len(secret_problems),
        what_to_configure=(
            f"set the secrets of build target {target.name} in the environment"
            if secret_problems
            else f"choose {what} for {repository}"
        ),
    )


class _Targets:
    """Enabled targets and each one's secret problems, read once for a page of actions."""

    def __init__(self) -> None:
        self._enabled: list[BuildTarget] | None = None
        self._secrets: dict[tuple[int, str], list[str]] = {}

    def enabled(self) -> list[BuildTarget]:
        if self._enabled is None:
            self._enabled = targets_enabled()
        return self._enabled

    def secret_problems(self, target: BuildTarget, kind: str) -> list[str]:
        key = (target.pk, kind)
        if key not in self._secrets:
            self._secrets[key] = target_secret_problems(target, kind=kind)
        return self._secrets[key]


def _readiness(action: RemediationAction, targets: _Targets) -> Readiness:
    repository = str(action.repository)
    kind = action.kind
    if kind in NEEDS_TARGET:
        own = action.build_target if action.build_target_id else None
        target = target_of_action(own, repository, targets.enabled)
        problems = targets.secret_problems(target, kind) if target is not None else []
        return _target_readiness(kind, repository, target, problems)
    if kind in NEEDS_AQUA and not AquaClient.configured():
        return Readiness(
            kind=kind,
            repository=repository,
            blockers=("Aqua is not configured (AQUA_URL)",),
            what_to_configure="set AQUA_URL and Aqua's credentials",
        )
    return Readiness(kind=kind, repository=repository)


def action_readiness(action: RemediationAction) -> Readiness:
    """Whether ``action`` could be dispatched now, and with which build target."""
    return _readiness(action, _Targets())


def actions_readiness(actions: Iterable[RemediationAction]) -> dict[int, Readiness]:
    """:func:`action_readiness` for a page of actions (their ``repository`` and
    ``build_target`` selected): one query for the enabled targets, whatever the rows."""
    targets = _Targets()
    return {action.pk: _readiness(action, targets) for action in actions}
