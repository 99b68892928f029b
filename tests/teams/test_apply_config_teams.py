"""``teams:`` in ``manage.py apply_config``: teams by slug with their people, SSO groups,
SLA policy, notification addresses, Slack secret name and ownership rules."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from findings.models import Repository
from remediator.engine.models import AuditEvent
from remediator.teams.models import OwnershipRule, Team, TeamMembership

EXAMPLE = Path(__file__).parents[2] / "examples" / "remediator.yaml"

pytestmark = pytest.mark.django_db

TEAMS = """
teams:
  - slug: shop
    name: Shop
    members: [alice]
    sso_groups: [shop-developers]
    sla_policy: pci-dss-4
    notify_email: [shop@example.com]
    slack_webhook_env: REMEDIATOR_SECRET_SLACK_SHOP
    ownership:
      - image_glob: registry.example.com/shop/*
      - namespace_glob: shop-*
        label: {team: shop}
  - slug: platform
    name: Platform
    ownership:
      - repositories: [registry.example.com/shop/base]
        order: 5
"""


def run(tmp_path: Path, text: str, *args: str) -> str:
    path = tmp_path / "remediator.yaml"
    path.write_text(text)
    out = StringIO()
    call_command("apply_config", str(path), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_user("alice")


def test_teams_are_created_then_unchanged_and_owners_follow(
    tmp_path, alice, eager, django_capture_on_commit_callbacks
):
    base = Repository.objects.create(registry="registry.example.com", name="shop/base")
    cart = Repository.objects.create(registry="registry.example.com", name="shop/cart")
    with django_capture_on_commit_callbacks(execute=True):
        out = run(tmp_path, TEAMS)

    assert out.splitlines()[-1] == "created 2, updated 0, unchanged 0"
    shop = Team.objects.get(slug="shop")
    assert (shop.name, shop.sso_groups, shop.notify_email, shop.slack_webhook_env) == (
        "Shop",
        ["shop-developers"],
        ["shop@example.com"],
        "REMEDIATOR_SECRET_SLACK_SHOP",
    )
    assert shop.sla_policy.name == "pci-dss-4"
    assert list(shop.members.values_list("username", flat=True)) == ["alice"]
    rules = list(OwnershipRule.objects.values_list("team__slug", "order", "image_glob"))
    assert rules == [
        ("platform", 5, ""),
        ("shop", 10, "registry.example.com/shop/*"),
        ("shop", 20, ""),
    ]
    assert OwnershipRule.objects.get(order=20).label_key == "team"
    # first match by order: the named repository goes to platform, the glob to shop
    base.refresh_from_db(), cart.refresh_from_db()
    assert (base.owner.slug, cart.owner.slug) == ("platform", "shop")
    assert AuditEvent.objects.filter(kind="config", object_type="team").count() == 2

    again = run(tmp_path, TEAMS)
    assert again.splitlines()[-1] == "created 0, updated 0, unchanged 2"
    assert AuditEvent.objects.filter(kind="config", object_type="team").count() == 2


def test_a_change_updates_the_team_keeps_sso_members_and_prune_deletes(tmp_path, alice):
    run(tmp_path, TEAMS)
    shop = Team.objects.get(slug="shop")
    sso = get_user_model().objects.create_user("sam")
    TeamMembership.objects.create(team=shop, user=sso, source=TeamMembership.Source.SSO)

    changed = TEAMS.replace("members: [alice]", "members: []").replace("shop-*", "store-*")
    out = run(tmp_path, changed.split("  - slug: platform")[0], "--prune")

    assert "updated team shop (members: ['alice'] -> []; ownership: 2 -> 2)" in out
    assert "deleted team platform" in out
    assert list(shop.members.values_list("username", flat=True)) == ["sam"]
    assert OwnershipRule.objects.get(order=20).namespace_glob == "store-*"
    assert not Team.objects.filter(slug="platform").exists()


def test_dry_run_saves_nothing(tmp_path, alice):
    out = run(tmp_path, TEAMS, "--dry-run")
    assert "would create team shop" in out
    assert not Team.objects.exists()


def test_every_team_problem_is_reported_with_its_line(tmp_path):
    bad = """teams:
  - slug: "not a slug"
  - slug: shop
    members: [nobody]
    sla_policy: no-such-policy
    notify_email: [not-an-address]
    slack_webhook_env: AWS_SECRET_ACCESS_KEY
    colour: blue
    ownership:
      - order: 3
      - label: {a: b, c: d}
  - slug: shop
"""
    with pytest.raises(CommandError) as caught:
        run(tmp_path, bad)
    text = str(caught.value)
    for expected in (
        "remediator.yaml:2: teams[0].slug: slug is required",
        "remediator.yaml:4: teams[1].members: no user named 'nobody'",
        "remediator.yaml:5: teams[1].sla_policy: no SLA policy named 'no-such-policy'",
        "remediator.yaml:6: teams[1].notify_email: not an email address: 'not-an-address'",
        "remediator.yaml:7: teams[1].slack_webhook_env: AWS_SECRET_ACCESS_KEY is not an allowed",
        "remediator.yaml:8: teams[1].colour: unknown key",
        "remediator.yaml:10: teams[1].ownership[0]: a rule needs image_glob",
        "remediator.yaml:11: teams[1].ownership[1].label: one key: value pair",
        "remediator.yaml:12: teams[2].slug: duplicate slug 'shop'",
    ):
        assert expected in text, text
    assert not Team.objects.exists()


def test_the_example_file_s_teams_apply(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        out = StringIO()
        call_command("apply_config", str(EXAMPLE), stdout=out)
    assert set(Team.objects.values_list("slug", flat=True)) == {"shop", "platform"}
    assert Team.objects.get(slug="shop").ownership_rules.count() == 3
