"""Where a notification about an image goes: the global channels and its owning team's.

The global channels are ``NOTIFY_EMAIL_TO`` and ``SLACK_WEBHOOK_URL`` (the security team);
a team adds its ``notify_email`` addresses and its Slack incoming webhook, whose URL is a
secret named by ``slack_webhook_env`` (read at send time, never stored, logged or shown).
The name follows the rule of build targets' secrets (``SECRET_ENV_PREFIX``…, or a file in
``SECRETS_DIR``), so a team cannot point its webhook at another setting's secret. With
``NOTIFY_TEAMS_ONLY`` a team that has a channel of its own is told instead of the global
channels; unowned images, and teams without channels, always go to the global ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from remediator.core.secrets import read_target_secret
from remediator.teams.models import Team

CHANNELS = ("email", "slack")


@dataclass(frozen=True)
class Route:
    """One destination: a channel, for the security team (``team`` "") or a team."""

    channel: str
    team: str = ""
    """The team's slug; "" for the global channels."""
    email_to: tuple[str, ...] = ()
    slack_secret: str = ""
    """The name of the secret holding the team's Slack webhook URL."""

    @property
    def name(self) -> str:
        """``email`` or ``slack`` for the global channels, ``email:<team>`` for a team's."""
        return f"{self.channel}:{self.team}" if self.team else self.channel

    def recipients(self) -> list[str]:
        return list(self.email_to) if self.team else list(settings.NOTIFY_EMAIL_TO)

    def slack_url(self) -> str:
        """The webhook URL (a secret): the team's, else ``SLACK_WEBHOOK_URL``."""
        if self.team:
            return read_target_secret(self.slack_secret)
        if not settings.SLACK_WEBHOOK_URL:
            raise ValueError("SLACK_WEBHOOK_URL is not set")
        return settings.SLACK_WEBHOOK_URL


def team_routes(team: Team | None) -> list[Route]:
    """The channels a team set for itself (none for an unowned image)."""
    if team is None:
        return []
    routes = []
    addresses = tuple(str(a) for a in team.notify_email or () if str(a).strip())
    if addresses:
        routes.append(Route("email", team=team.slug, email_to=addresses))
    if team.slack_webhook_env:
        routes.append(Route("slack", team=team.slug, slack_secret=team.slack_webhook_env))
    return routes


def routes_for(team: Team | None, channels: Sequence[str]) -> list[Route]:
    """The global ``channels`` (unless the team's own replace them) and the team's."""
    own = team_routes(team)
    if own and settings.NOTIFY_TEAMS_ONLY:
        return own
    return [Route(c) for c in channels if c in CHANNELS] + own
