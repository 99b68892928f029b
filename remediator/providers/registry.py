"""Which class talks to which CI system: one slug, one class."""

from __future__ import annotations

from remediator.models import BuildTarget

from . import CIProvider
from .base import ProviderError
from .github import GitHubActions
from .gitlab import GitLabCI
from .jenkins import Jenkins
from .webhook import GenericWebhook

PROVIDERS: dict[str, type] = {
    "github": GitHubActions,
    "gitlab": GitLabCI,
    "jenkins": Jenkins,
    "webhook": GenericWebhook,
}
"""Slugs match ``remediator.models.Provider``."""


def provider_for(target: BuildTarget) -> CIProvider:
    """The CI client for ``target``; a permanent ProviderError when it cannot be built."""
    cls = PROVIDERS.get(target.provider)
    if cls is None:
        raise ProviderError(
            f"build target {target.name}: unknown provider {target.provider!r}", permanent=True
        )
    return cls(target)
