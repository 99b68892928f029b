"""The ``teams:`` section: each team by slug, its people, where it is told, its deadlines
policy, and the ownership rules that give it images.

```yaml
teams:
  - slug: shop
    name: Shop
    members: [alice]              # usernames (manual memberships; SSO ones are left alone)
    sso_groups: [shop-developers]
    sla_policy: fedramp           # an SLA policy's name
    notify_email: [shop@example.com]
    slack_webhook_env: REMEDIATOR_SECRET_SLACK_SHOP
    ownership:                    # first match (lowest order) over every team wins
      - image_glob: registry.example.com/shop/*
      - namespace_glob: shop-*
        label: {team: shop}
      - repositories: [docker.io/acme/cart]
        order: 5
```

A rule's ``order`` defaults to its place in the file (10, 20, ... counted over every
team), so the file reads top to bottom as the rules are tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from remediator.core.secrets import target_secret_problem
from remediator.teams.models import OwnershipRule, SlaPolicy, Team, TeamMembership

from ..audit import audit_record
from .deletion import row_delete
from .keys import DICT, INT, LIST, STR

TEAM_KEYS = {
    "slug": STR,
    "name": STR,
    "description": STR,
    "members": LIST,
    "sso_groups": LIST,
    "sla_policy": STR,
    "notify_email": LIST,
    "slack_webhook_env": STR,
    "ownership": "a list of rules",
}
RULE_KEYS = {
    "order": INT,
    "image_glob": STR,
    "namespace_glob": STR,
    "label": DICT,
    "repositories": LIST,
}
KIND = "team"


@dataclass(frozen=True)
class TeamRow:
    slug: str
    fields: dict[str, Any]
    """name, description, sso_groups, sla_policy (a name or None), notify_email,
    slack_webhook_env."""
    members: tuple[str, ...]
    rules: tuple[tuple[tuple[str, Any], ...], ...]
    """Each rule's fields as sorted pairs (comparable with what is stored)."""


def teams_load(checker: Any, data: dict, policy_names: set[str]) -> list[TeamRow]:
    """The ``teams`` entries, checked; problems go to ``checker`` with their lines."""
    entries = data.get("teams") or []
    if not isinstance(entries, list):
        checker.error(("teams",), "must be a list")
        return []
    rows, seen, order = [], set(), 0
    users = get_user_model().objects
    for index, entry in enumerate(entries):
        path = ("teams", index)
        if not isinstance(entry, dict):
            checker.error(path, "must be a map of keys")
            continue
        values = _known(checker, path, entry, TEAM_KEYS, skip={"ownership"})
        slug = values.get("slug", "")
        if not slug or not _is_slug(slug):
            checker.error((*path, "slug"), "slug is required: letters, digits, '-' and '_'")
            continue
        if slug in seen:
            checker.error((*path, "slug"), f"duplicate slug {slug!r}")
        seen.add(slug)
        for name in values.get("members", []):
            if not users.filter(username=name).exists():
                checker.error((*path, "members"), f"no user named {name!r}")
        policy = values.get("sla_policy")
        if policy and policy not in policy_names:
            checker.error((*path, "sla_policy"), f"no SLA policy named {policy!r}")
        for address in values.get("notify_email", []):
            try:
                validate_email(address)
            except ValidationError:
                checker.error((*path, "notify_email"), f"not an email address: {address!r}")
        secret = values.get("slack_webhook_env")
        if secret and (problem := target_secret_problem(secret)):
            checker.error((*path, "slack_webhook_env"), problem)
        rules = []
        for rule_index, rule in enumerate(_list(checker, (*path, "ownership"), entry)):
            order += 10
            checked = _rule(checker, (*path, "ownership", rule_index), rule, order)
            if checked is not None:
                rules.append(checked)
        fields = {
            "name": values.get("name") or slug,
            "description": values.get("description", ""),
            "sso_groups": values.get("sso_groups", []),
            "sla_policy": policy or None,
            "notify_email": values.get("notify_email", []),
            "slack_webhook_env": secret or "",
        }
        rows.append(TeamRow(slug, fields, tuple(values.get("members", [])), tuple(rules)))
    return rows


def _is_slug(text: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in text) and len(text) <= 100


def _known(checker: Any, path: tuple, entry: dict, keys: dict, skip: set[str]) -> dict:
    values = {}
    for key, value in entry.items():
        if key not in keys:
            checker.error((*path, key), f"unknown key (known: {', '.join(keys)})")
        elif key not in skip and value is not None:
            checked = checker.typed((*path, key), value, keys[key])
            if checked is not None:
                values[key] = checked
    return values


def _list(checker: Any, path: tuple, entry: dict) -> list:
    rules = entry.get("ownership") or []
    if not isinstance(rules, list):
        checker.error(path, "must be a list of rules")
        return []
    return rules


def _rule(checker: Any, path: tuple, rule: object, order: int) -> tuple | None:
    if not isinstance(rule, dict):
        checker.error(path, "must be a map of keys")
        return None
    values = _known(checker, path, rule, RULE_KEYS, skip=set())
    label = values.pop("label", None) or {}
    if len(label) > 1 or not all(isinstance(v, str | int) for v in label.values()):
        checker.error((*path, "label"), "one key: value pair, e.g. {team: shop}")
        label = {}
    key, value = next(iter(label.items()), ("", ""))
    fields = {
        "order": values.get("order", order),
        "image_glob": values.get("image_glob", ""),
        "namespace_glob": values.get("namespace_glob", ""),
        "label_key": str(key),
        "label_value": str(value),
        "repositories": values.get("repositories", []),
    }
    if not any(fields[k] for k in ("image_glob", "namespace_glob", "label_key", "repositories")):
        checker.error(path, "a rule needs image_glob, namespace_glob, label or repositories")
        return None
    return tuple(sorted(fields.items()))


def _stored(team: Team) -> TeamRow:
    rules = tuple(
        tuple(sorted((k, getattr(rule, k)) for k in RULE_FIELDS))
        for rule in team.ownership_rules.order_by("order", "id")
    )
    manual = team.memberships.filter(source=TeamMembership.Source.MANUAL)
    fields = {k: getattr(team, k) for k in ("name", "description", "sso_groups")}
    fields |= {
        "sla_policy": team.sla_policy.name if team.sla_policy else None,
        "notify_email": team.notify_email,
        "slack_webhook_env": team.slack_webhook_env,
    }
    members = tuple(sorted(manual.values_list("user__username", flat=True)))
    return TeamRow(team.slug, fields, members, rules)


RULE_FIELDS = ("order", "image_glob", "namespace_glob", "label_key", "label_value", "repositories")


def teams_apply(rows: list[TeamRow], *, dry_run: bool, prune: bool, source: str, change_class):
    """Create/update (and with ``prune`` delete) teams; the changes, ``change_class`` each."""
    changes = []
    for row in rows:
        team = Team.objects.filter(slug=row.slug).first()
        wanted = TeamRow(row.slug, row.fields, tuple(sorted(row.members)), _sorted(row.rules))
        if team is None:
            change = change_class("created", KIND, row.slug)
        else:
            now = _stored(team)
            diff = {k: (now.fields[k], v) for k, v in wanted.fields.items() if now.fields[k] != v}
            if now.members != wanted.members:
                diff["members"] = (list(now.members), list(wanted.members))
            if _sorted(now.rules) != wanted.rules:
                diff["ownership"] = (len(now.rules), len(wanted.rules))
            if not diff:
                changes.append(change_class("unchanged", KIND, row.slug))
                continue
            change = change_class("updated", KIND, row.slug, diff)
        if not dry_run:
            team = _write(team, wanted)
            audit_record(
                kind="config",
                actor_label=f"config:{source}",
                obj=team,
                message=change.describe(),
                data={"fields": {k: [repr(a), repr(b)] for k, (a, b) in change.fields.items()}},
            )
        changes.append(change)
    if prune:
        for team in Team.objects.exclude(slug__in=[row.slug for row in rows]):
            changes.append(change_class("deleted", KIND, team.slug))
            row_delete(team, kind=KIND, name=team.slug, source=source, dry_run=dry_run)
    return changes


def _sorted(rules: tuple) -> tuple:
    return tuple(sorted(rules, key=lambda rule: (dict(rule)["order"], repr(rule))))


def _write(team: Team | None, row: TeamRow) -> Team:
    fields = dict(row.fields)
    name = fields.pop("sla_policy")
    fields["sla_policy"] = SlaPolicy.objects.get(name=name) if name else None
    if team is None:
        team = Team.objects.create(slug=row.slug, **fields)
    else:
        for key, value in fields.items():
            setattr(team, key, value)
        team.save()
    manual = team.memberships.filter(source=TeamMembership.Source.MANUAL)
    manual.exclude(user__username__in=row.members).delete()
    for user in get_user_model().objects.filter(username__in=row.members):
        TeamMembership.objects.get_or_create(team=team, user=user)
    team.ownership_rules.all().delete()
    OwnershipRule.objects.bulk_create(OwnershipRule(team=team, **dict(r)) for r in row.rules)
    return team
