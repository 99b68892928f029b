"""System checks: the Aqua, Harbor and Slack URLs from settings obey the outbound rules;
the registry credentials file and CA bundle can be read."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error

from remediator.integrations.outbound import outbound_url_problem
from remediator.integrations.registry.credentials import auth_file_problem

SETTINGS_URLS = (
    "AQUA_URL",
    "AQUA_AUTH_URL",
    "HARBOR_URL",
    "SLACK_WEBHOOK_URL",
    "EPSS_URL",
    "KEV_URL",
)


def outbound_urls_check(app_configs=None, **kwargs) -> list[CheckMessage]:
    """One error per configured URL setting that a secret may not be sent to."""
    errors: list[CheckMessage] = []
    for name in SETTINGS_URLS:
        url = getattr(settings, name, "")
        problem = outbound_url_problem(url) if url else ""
        if problem:
            errors.append(Error(f"{name}: {problem}", id="remediator.E001"))
    return errors


def registry_files_check(app_configs=None, **kwargs) -> list[CheckMessage]:
    """REGISTRY_AUTH_FILE is a Docker config with ``auths``; REGISTRY_CA_BUNDLE exists."""
    errors: list[CheckMessage] = []
    problem = auth_file_problem()
    if problem:
        errors.append(Error(problem, id="remediator.E061"))
    bundle = getattr(settings, "REGISTRY_CA_BUNDLE", "")
    if bundle and not Path(bundle).is_file():
        errors.append(Error("REGISTRY_CA_BUNDLE is not a readable file", id="remediator.E062"))
    return errors
