"""Demo teams: three teams owning the demo images by image globs, each with its SLA
policy (two presets and one custom), then owners and due dates through the real
functions (``owners_refresh``, ``due_dates_refresh``). The "data" and "search" images
stay unowned: the pages show what no team owns."""

from __future__ import annotations

from findings.models import Finding
from remediator.engine.ownership import owners_refresh
from remediator.engine.services.deadlines import due_dates_refresh
from remediator.teams.models import OwnershipRule, SlaPolicy, Team

TEAMS = [
    # slug, name, SLA policy, image globs (first match wins, in this order)
    ("payments", "Payments", "pci-dss-4", ["*payments/*", "*checkout/*"]),
    ("platform", "Platform", "fedramp", ["*platform/*", "*identity/*"]),
    ("web", "Web and mobile", "web-fast", ["*web/*", "*mobile-api/*"]),
]
CUSTOM = {
    "name": "web-fast",
    "description": "Internet-facing: critical 14 days, high 30, medium 90, low 180.",
    "critical_days": 14,
    "high_days": 30,
    "medium_days": 90,
    "low_days": 180,
}


def create_demo_teams() -> dict[str, int]:
    """The teams, their rules and policies; then every repository's owner and every
    finding's due date. Counts of what was set."""
    SlaPolicy.objects.get_or_create(name=CUSTOM["name"], defaults=CUSTOM)
    order = 10
    for slug, name, policy, globs in TEAMS:
        # the presets come from a migration; a flushed test database lacks them
        sla, _ = SlaPolicy.objects.get_or_create(name=policy, defaults={"preset": policy})
        team, _ = Team.objects.update_or_create(
            slug=slug, defaults={"name": name, "sla_policy": sla}
        )
        team.ownership_rules.all().delete()
        for glob in globs:
            OwnershipRule.objects.create(team=team, order=order, image_glob=glob)
            order += 10
    owned = owners_refresh()
    due = due_dates_refresh(Finding.objects.all())  # closed ones too: compliance counts them
    return {"owned": owned, "due": due}
