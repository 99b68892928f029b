"""Teams, the rules that give each image an owner, and the deadlines (SLA policies) their
findings are held to.

An image repository's owner is the team of the first ownership rule (lowest ``order``)
that matches it: its name (``image_glob``), a namespace it runs in (``namespace_glob``),
a Kubernetes label of a workload running it (``label_key`` = ``label_value``), or a
list of repositories named in configuration (``repositories``). No match: unowned,
shown as such. The engine stores the result on ``findings.Repository.owner``.
"""

from __future__ import annotations

from dataclasses import replace

from django.conf import settings
from django.db import models

from remediator.teams.deadlines import PRESETS, Terms
from remediator.teams.identity import SsoIdentity  # noqa: F401 - a model of this app


class SlaPolicy(models.Model):
    """Days to fix a finding, by severity, counted from a clock; a preset follows its
    source (``remediator/teams/deadlines.py``: FedRAMP, PCI DSS 4.0 req. 6.3.3), custom
    ones set the days. A severity with no days has no deadline (unless KEV caps it)."""

    class Clock(models.TextChoices):
        DETECTED = "detected", "from first detection"
        FIX_RELEASED = "fix_released", "from when a fix was released (fixable_since)"

    class Accepted(models.TextChoices):
        PAUSE = "pause", "an accepted risk pauses the clock"
        EXEMPT = "exempt", "an accepted risk has no deadline"

    name = models.SlugField(max_length=100, unique=True)
    preset = models.CharField(
        max_length=20, blank=True, help_text="fedramp, pci-dss-4 or empty for custom days."
    )
    description = models.TextField(blank=True)
    critical_days = models.PositiveIntegerField(null=True, blank=True)
    high_days = models.PositiveIntegerField(null=True, blank=True)
    medium_days = models.PositiveIntegerField(null=True, blank=True)
    low_days = models.PositiveIntegerField(null=True, blank=True)
    clock = models.CharField(max_length=16, choices=Clock.choices, default=Clock.DETECTED)
    kev_caps = models.BooleanField(
        default=True,
        help_text="CISA BOD 22-01: a KEV entry's due date caps every other deadline.",
    )
    accepted = models.CharField(max_length=8, choices=Accepted.choices, default=Accepted.PAUSE)
    is_default = models.BooleanField(
        default=False, help_text="Applies to unowned images and teams without a policy."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="sla_policy_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def terms(self) -> Terms:
        """The rules this policy applies: its preset's, or its own days."""
        if self.preset in PRESETS:
            return replace(PRESETS[self.preset].terms, kev_caps=self.kev_caps)
        days = {
            "critical": self.critical_days,
            "high": self.high_days,
            "medium": self.medium_days,
            "low": self.low_days,
        }
        return Terms(days=days, clock=self.clock, kev_caps=self.kev_caps)


class Team(models.Model):
    """A team that owns images: its people, where it is told, and its deadlines."""

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="teams", blank=True
    )
    sso_groups = models.JSONField(
        default=list,
        blank=True,
        help_text="Identity-provider groups whose members belong to this team (at each login).",
    )
    sla_policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams"
    )
    notify_email = models.JSONField(default=list, blank=True, help_text="Addresses to tell.")
    slack_webhook_env = models.CharField(
        max_length=100,
        blank=True,
        help_text="Name of the environment variable (or _FILE) holding the team's Slack "
        "incoming-webhook URL: a secret, named here, never stored.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual"
        SSO = "sso", "single sign-on"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class OwnershipRule(models.Model):
    """One way to recognise a team's images; the lowest ``order`` that matches wins."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ownership_rules")
    order = models.PositiveIntegerField(default=100)
    image_glob = models.CharField(
        max_length=300, blank=True, help_text="e.g. registry.example.com/shop/*"
    )
    namespace_glob = models.CharField(
        max_length=253, blank=True, help_text="a namespace the image runs in, e.g. shop-*"
    )
    label_key = models.CharField(max_length=317, blank=True, help_text="e.g. team")
    label_value = models.CharField(max_length=63, blank=True, help_text="e.g. shop")
    repositories = models.JSONField(
        default=list, blank=True, help_text="Repositories named one by one (config as code)."
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.team} rule {self.order}"
