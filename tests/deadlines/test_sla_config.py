"""``sla_policies:`` in apply_config, and the SLA policy admin showing a preset's source."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from remediator.engine.models import AuditEvent
from remediator.teams.models import SlaPolicy

pytestmark = pytest.mark.django_db

CONFIG = """\
sla_policies:
  - name: fedramp
    preset: fedramp
  - name: shop
    description: the shop's own days
    days: {critical: 7, high: 14, medium: 60}
    clock: fix_released
    kev_caps: false
    accepted: exempt
    default: true
"""


def run(tmp_path: Path, text: str, *args: str) -> str:
    path = tmp_path / "remediator.yaml"
    path.write_text(text)
    out = StringIO()
    call_command("apply_config", str(path), *args, stdout=out)
    return out.getvalue()


def test_policies_from_config_then_unchanged(presets, tmp_path):
    first = run(tmp_path, CONFIG)

    shop = SlaPolicy.objects.get(name="shop")
    assert (shop.critical_days, shop.high_days, shop.medium_days, shop.low_days) == (
        7,
        14,
        60,
        None,
    )
    assert (shop.clock, shop.kev_caps, shop.accepted) == ("fix_released", False, "exempt")
    assert list(SlaPolicy.objects.filter(is_default=True)) == [shop]  # taken from fedramp
    assert "created SLA policy shop" in first
    assert AuditEvent.objects.filter(kind="config", message__contains="SLA policy shop").exists()
    terms = shop.terms()
    assert terms.days["critical"] == 7 and terms.clock == "fix_released"

    assert run(tmp_path, CONFIG).splitlines()[-1].endswith("unchanged 2")


def test_prune_leaves_policies_alone_without_the_section(presets, tmp_path):
    run(tmp_path, "build_targets: []\n", "--prune")
    assert SlaPolicy.objects.count() == 3

    run(tmp_path, CONFIG, "--prune")
    assert set(SlaPolicy.objects.values_list("name", flat=True)) == {"fedramp", "shop"}


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("preset: fedramp2", "sla_policies[0].preset: unknown preset"),
        ("preset: fedramp\n    days: {high: 3}", "a preset sets its own days and clock"),
        ("days: {urgent: 3}", "unknown severity 'urgent'"),
        ("days: {high: -3}", "high: a whole number of days >= 0, or null"),
        ("clock: eventually", "unknown clock (detected, fix_released)"),
        ("accepted: forgive", "unknown accepted (pause, exempt)"),
        ("default: yes please", "must be true or false"),
    ],
)
def test_bad_entries_are_refused_with_their_line(presets, tmp_path, entry, problem):
    with pytest.raises(CommandError) as caught:
        run(tmp_path, f"sla_policies:\n  - name: x\n    {entry}\n")
    assert problem in str(caught.value) and "remediator.yaml:" in str(caught.value)
    assert not SlaPolicy.objects.filter(name="x").exists()


def test_two_defaults_are_refused(presets, tmp_path):
    text = "sla_policies:\n  - {name: a, default: true}\n  - {name: b, default: true}\n"
    with pytest.raises(CommandError, match="one default policy only, not a, b"):
        run(tmp_path, text)


def test_admin_shows_the_presets_source(presets, admin_client):
    page = admin_client.get("/admin/teams/slapolicy/").content.decode()
    assert "PCI DSS 4.0 req. 6.3.3: critical and high-risk security patches" in page
    change = admin_client.get(f"/admin/teams/slapolicy/{presets['fedramp'].pk}/change/")
    assert "FedRAMP Continuous Monitoring: high (and critical) 30 days" in change.content.decode()
