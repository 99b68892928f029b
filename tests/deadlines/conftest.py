from __future__ import annotations

import pytest

from remediator.teams.models import SlaPolicy, Team
from tests.engine.conftest import defaults, eager, engine_settings, people  # noqa: F401

PRESET_ROWS = [("fedramp", True), ("pci-dss-4", False), ("cisa-bod-22-01", False)]


@pytest.fixture
def presets(db) -> dict[str, SlaPolicy]:
    """The preset policies as migration teams 0002 makes them, FedRAMP the default
    (made again: a transactional test elsewhere may have flushed them)."""
    made = {}
    for name, default in PRESET_ROWS:
        made[name], _ = SlaPolicy.objects.get_or_create(
            name=name, defaults={"preset": name, "is_default": default}
        )
    return made


@pytest.fixture
def shop(presets) -> Team:
    """A team held to PCI DSS, told by mail and on its own Slack webhook."""
    return Team.objects.create(
        slug="shop",
        name="Shop",
        sla_policy=presets["pci-dss-4"],
        notify_email=["shop@example.com"],
        slack_webhook_env="REMEDIATOR_SECRET_SHOP_SLACK",
    )
