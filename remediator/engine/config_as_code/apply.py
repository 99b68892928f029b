"""Applying a validated config: create, update, (prune) by name, one AuditEvent per change.

A row written with an old key's name (``keys.DEPRECATED_KEYS``) carries the warning into
its change's audit event (``data["deprecated"]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from remediator.teams.models import SlaPolicy

from ..audit import audit_record
from ..models import AdmissionPolicy, BuildTarget, Policy
from ..ownership_refresh import owners_refresh_soon
from ..services.dry_run_store import policy_dry_run_enqueue
from .deletion import row_delete
from .load import Config
from .sla_policies import sla_default_release
from .teams import teams_apply


@dataclass(frozen=True)
class Change:
    verb: str
    """created | updated | unchanged | deleted"""
    kind: str
    """"SLA policy" | "build target" | "policy" | "admission policy" | "team"."""
    name: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def describe(self, *, dry_run: bool = False) -> str:
        verb = {"created": "create", "updated": "update", "deleted": "delete"}.get(self.verb)
        head = f"would {verb}" if dry_run and verb else self.verb
        detail = "; ".join(
            f"{k}: {_show(k, old)} -> {_show(k, new)}" for k, (old, new) in self.fields.items()
        )
        return f"{head} {self.kind} {self.name}" + (f" ({detail})" if detail else "")


def _show(key: str, value: Any) -> str:
    if key == "dockerfile":
        return f"<{len(value or '')} chars>"
    return repr(value)


def _current_policy(policy: Policy, key: str) -> Any:
    if key == "build_target":
        return policy.build_target.name if policy.build_target else None
    if key == "owner":
        return policy.owner.get_username() if policy.owner else None
    return getattr(policy, key)


def config_apply(
    *, config: Config, dry_run: bool = False, prune: bool = False, source: str = "config"
) -> list[Change]:
    """Create/update (and with ``prune`` delete) targets and policies; nothing saved on dry run."""
    changes: list[Change] = []
    sla_rows = config.sla_policies or []
    with transaction.atomic():
        if not dry_run:
            sla_default_release(sla_rows)
        for model, kind, rows, current in (
            (SlaPolicy, "SLA policy", sla_rows, getattr),
            (BuildTarget, "build target", config.targets, getattr),
            (Policy, "policy", config.policies, _current_policy),
            (AdmissionPolicy, "admission policy", config.admission_policies, getattr),
        ):
            for row in rows:
                notes = config.deprecated.get((kind, row["name"]), [])
                changes.append(_upsert(model, kind, row, current, dry_run, source, notes))
        if prune:
            for model, kind, rows in (
                (AdmissionPolicy, "admission policy", config.admission_policies),
                (Policy, "policy", config.policies),
                (BuildTarget, "build target", config.targets),
                *([(SlaPolicy, "SLA policy", sla_rows)] if config.sla_policies is not None else []),
            ):
                for obj in model.objects.exclude(name__in=[r["name"] for r in rows]):
                    changes.append(Change("deleted", kind, obj.name))
                    row_delete(obj, kind=kind, name=obj.name, source=source, dry_run=dry_run)
        teams = teams_apply(
            config.teams, dry_run=dry_run, prune=prune, source=source, change_class=Change
        )
        changes += teams
        if not dry_run and any(c.kind == "policy" and c.verb != "unchanged" for c in changes):
            policy_dry_run_enqueue()
        if not dry_run and any(c.verb != "unchanged" for c in teams):
            owners_refresh_soon()  # after commit: every repository, by the new rules
    return changes


def _resolve(row: dict) -> dict:
    values = dict(row)
    if "build_target" in values:
        name = values["build_target"]
        values["build_target"] = BuildTarget.objects.get(name=name) if name else None
    if "owner" in values:
        name = values["owner"]
        values["owner"] = get_user_model().objects.get(username=name) if name else None
    return values


def _upsert(
    model, kind: str, row: dict, current, dry_run: bool, source: str, notes: list[str]
) -> Change:
    obj = model.objects.filter(name=row["name"]).first()
    if obj is None:
        change = Change("created", kind, row["name"])
        if not dry_run:
            obj = model.objects.create(**_resolve(row))
    else:
        diff = {k: (current(obj, k), v) for k, v in row.items() if current(obj, k) != v}
        if not diff:
            return Change("unchanged", kind, row["name"])
        change = Change("updated", kind, row["name"], diff)
        if not dry_run:
            for key, value in _resolve({k: row[k] for k in diff}).items():
                setattr(obj, key, value)
            obj.save()
    if not dry_run:
        data = {k: [_show(k, old), _show(k, new)] for k, (old, new) in change.fields.items()}
        audit_record(
            kind="config",
            actor_label=f"config:{source}",
            obj=obj,
            message=change.describe(),
            data={"fields": data, **({"deprecated": notes} if notes else {})},
        )
    return change
