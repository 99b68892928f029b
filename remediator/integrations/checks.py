"""System checks: the Aqua, Harbor and Slack URLs from settings obey the outbound rules."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error

from remediator.integrations.outbound import outbound_url_problem

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
