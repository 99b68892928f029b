"""The ``sla_policies:`` section: SLA policies by name, a preset or custom days.

    sla_policies:
      - name: fedramp            # a preset: its source's days and clock
        preset: fedramp
        default: true            # unowned images and teams without a policy
      - name: shop
        days: {critical: 7, high: 30, medium: 90}   # a severity left out: no deadline
        clock: detected          # or fix_released (from when a fix was released)
        kev_caps: true           # CISA KEV due dates cap the days (the default)
        accepted: pause          # or exempt

A preset sets its own days and clock: giving ``days`` or ``clock`` with it is an error.
``--prune`` deletes the policies this section does not name, only when the file has it.
"""

from __future__ import annotations

from typing import Any

from remediator.teams.deadlines import PRESETS, SEVERITIES
from remediator.teams.models import SlaPolicy

from .keys import BOOL, DICT, STR

SLA_KEYS: dict[str, tuple[str, str]] = {
    "name": ("name", STR),
    "preset": ("preset", STR),
    "description": ("description", STR),
    "days": ("days", DICT),
    "clock": ("clock", STR),
    "kev_caps": ("kev_caps", BOOL),
    "accepted": ("accepted", STR),
    "default": ("is_default", BOOL),
}
FIELDS = ("preset", "description", "clock", "kev_caps", "accepted", "is_default")


def sla_policy_row(checker: Any, path: tuple, values: dict) -> dict:
    """The SlaPolicy fields of one entry; problems go to ``checker``."""
    preset = values.get("preset", "")
    if preset and preset not in PRESETS:
        checker.error((*path, "preset"), f"unknown preset ({', '.join(PRESETS)})")
    if preset and ("days" in values or "clock" in values):
        checker.error(path, "a preset sets its own days and clock: give one or the other")
    for key, choices in (("clock", SlaPolicy.Clock), ("accepted", SlaPolicy.Accepted)):
        if values.get(key, choices.values[0]) not in choices.values:
            checker.error((*path, key), f"unknown {key} ({', '.join(choices.values)})")
    days = values.get("days") or {}
    for severity, value in days.items():
        if severity not in SEVERITIES:
            checker.error(
                (*path, "days"), f"unknown severity {severity!r} ({', '.join(SEVERITIES)})"
            )
        elif value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            checker.error((*path, "days"), f"{severity}: a whole number of days >= 0, or null")
    row: dict[str, Any] = {
        "name": values["name"],
        "preset": preset,
        "description": values.get("description", ""),
        "clock": values.get("clock", SlaPolicy.Clock.DETECTED),
        "kev_caps": values.get("kev_caps", True),
        "accepted": values.get("accepted", SlaPolicy.Accepted.PAUSE),
        "is_default": values.get("default", False),
    }
    for severity in SEVERITIES:
        row[f"{severity}_days"] = days.get(severity)
    return row


def sla_defaults_check(checker: Any, rows: list[dict]) -> None:
    defaults = [row["name"] for row in rows if row["is_default"]]
    if len(defaults) > 1:
        checker.error(("sla_policies",), f"one default policy only, not {', '.join(defaults)}")


def sla_default_release(rows: list[dict]) -> None:
    """Before saving: the policy the file makes default takes the flag from another."""
    default = next((row["name"] for row in rows if row["is_default"]), None)
    if default is not None:
        SlaPolicy.objects.filter(is_default=True).exclude(name=default).update(is_default=False)
