"""The contract CI providers share.

A CI provider is built from a build target (coordinates + names of the
environment variables holding its secrets: :class:`CITarget`, which the
engine's ``BuildTarget`` model satisfies) and can trigger a rebuild, poll its
status, and check that it is reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

RUN_STATES = ("queued", "running", "succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class TriggerRequest:
    """What every CI trigger carries."""

    correlation_id: str
    image: str
    """Full reference: registry/repository:tag@digest."""
    digest: str
    vulnerability_ids: tuple[str, ...]
    packages: tuple[tuple[str, str], ...]
    """(package name, fixed version) pairs."""
    details_url: str
    """Remediator API URL of the action, for anything too big for CI inputs."""
    dispatch_number: int = 1
    """1 for the first dispatch of the action, 2 after a retry a person asked for, ...;
    the same across the transient retries of one dispatch."""

    def variables(self) -> dict[str, str]:
        """The REMEDIATOR_* variables a pipeline or job receives (GitLab, Jenkins)."""
        return {
            "REMEDIATOR_CORRELATION_ID": self.correlation_id,
            "REMEDIATOR_IMAGE": self.image,
            "REMEDIATOR_DIGEST": self.digest,
            "REMEDIATOR_CVES": ",".join(self.vulnerability_ids),
            "REMEDIATOR_PACKAGES": ",".join(f"{n}={v}" for n, v in self.packages),
            "REMEDIATOR_DETAILS_URL": self.details_url,
        }


@dataclass(frozen=True)
class RunStatus:
    """Where a triggered CI run is. ``provider_state`` is kept on the action
    and handed back to the next ``status`` call (ids, queue URLs, ...)."""

    state: str
    """One of RUN_STATES."""
    provider_state: dict = field(default_factory=dict)
    external_id: str = ""
    url: str = ""
    detail: str = ""


class CITarget(Protocol):
    """What a CI provider reads from a build target."""

    name: str
    provider: str
    url: str
    project: str
    ref: str
    workflow: str
    username: str
    token_env: str
    api_token_env: str
    options: dict


class CIProvider(Protocol):
    label: str
    """What people call it ("GitHub Actions"): the build target's provider choices."""

    def trigger(self, request: TriggerRequest) -> RunStatus: ...

    def status(self, provider_state: dict) -> RunStatus: ...

    def find_run(self, request: TriggerRequest, since: datetime) -> RunStatus | None:
        """The run an earlier trigger with ``request.correlation_id`` started after
        ``since``, if the system can tell; asked before triggering again when a worker
        died between the trigger and recording its run. None: not found, or unknowable."""
        ...

    def ping(self) -> str:
        """'' when reachable and authorised, else what is wrong."""
        ...


__all__ = ["RUN_STATES", "CIProvider", "CITarget", "RunStatus", "TriggerRequest"]
