"""Which class talks to which CI system: one slug, one class.

``PROVIDERS`` is the one list: the build target's provider choices are built
from it, so adding a CI system is one line here plus its folder.
"""

from __future__ import annotations

from remediator.core.errors import ProviderError
from remediator.integrations.ci import CIProvider, CITarget
from remediator.integrations.github.client import GitHubActions
from remediator.integrations.github.pulls import GitHubPulls
from remediator.integrations.gitlab.client import GitLabCI
from remediator.integrations.gitlab.merge_requests import GitLabMergeRequests
from remediator.integrations.jenkins.client import Jenkins
from remediator.integrations.pulls import PullHost
from remediator.integrations.webhook.client import GenericWebhook

PROVIDERS: dict[str, type] = {
    cls.slug: cls for cls in (GitHubActions, GitLabCI, Jenkins, GenericWebhook)
}


def provider_choices() -> list[tuple[str, str]]:
    """(slug, label) pairs, for the build target's ``provider`` field."""
    return [(slug, cls.label) for slug, cls in PROVIDERS.items()]


def provider_for(target: CITarget) -> CIProvider:
    """The CI client for ``target``; a permanent ProviderError when it cannot be built."""
    cls = PROVIDERS.get(target.provider)
    if cls is None:
        raise ProviderError(
            f"build target {target.name}: unknown provider {target.provider!r}", permanent=True
        )
    return cls(target)


PULL_HOSTS: dict[str, type] = {"github": GitHubPulls, "gitlab": GitLabMergeRequests}
"""Build-target providers that can open fix pull requests, by the same slug."""


def pull_host_for(target: CITarget) -> PullHost:
    """The pull-request client for ``target``; a permanent ProviderError when its
    provider cannot open pull requests."""
    cls = PULL_HOSTS.get(target.provider)
    if cls is None:
        raise ProviderError(
            f"build target {target.name}: {target.provider} cannot open fix pull requests "
            f"(use {' or '.join(PULL_HOSTS)})",
            permanent=True,
        )
    return cls(target)
