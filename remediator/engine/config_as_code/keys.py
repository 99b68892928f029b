"""The YAML keys of each section: YAML key -> (model field, expected type).

Both kinds of policy take the same criteria keys (``CRITERIA_KEYS``, the columns of
``PolicyCriteria``); they differ only in what a match leads to. Old names still read
(``DEPRECATED_KEYS``), each with a warning naming what to write instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STR, BOOL, INT, LIST, DICT = "a string", "true or false", "a whole number", "a list", "a map"
UNIT = "a number from 0 to 1"
NULLABLE = {"fix_available", "min_epss", "vendor_not_affected"}
"""Keys whose null means "no condition"."""

TARGET_KEYS: dict[str, tuple[str, str]] = {
    "name": ("name", STR),
    "images": ("image_patterns", LIST),
    "provider": ("provider", STR),
    "url": ("url", STR),
    "project": ("project", STR),
    "ref": ("ref", STR),
    "workflow": ("workflow", STR),
    "username": ("username", STR),
    "token_env": ("token_env", STR),
    "api_token_env": ("api_token_env", STR),
    "dockerfile": ("dockerfile", STR),
    "dockerfile_file": ("dockerfile", STR),
    "dockerfile_path": ("dockerfile_path", STR),
    "options": ("options", DICT),
    "enabled": ("enabled", BOOL),
}

_ORDERED: dict[str, tuple[str, str]] = {
    "name": ("name", STR),
    "order": ("order", INT),
    "enabled": ("enabled", BOOL),
    "description": ("description", STR),
}
CRITERIA_KEYS: dict[str, tuple[str, str]] = {
    "min_severity": ("min_severity", STR),
    "fix_available": ("fix_available", BOOL),
    "fix_grace_days": ("fix_grace_days", INT),
    "include_wont_fix": ("include_wont_fix", BOOL),
    "package": ("package_glob", STR),
    "image": ("image_glob", STR),
    "vulnerabilities": ("vulnerability_ids", LIST),
    "min_age_days": ("min_age_days", INT),
    "kev": ("kev", BOOL),
    "min_epss": ("min_epss", UNIT),
    "running": ("running", BOOL),
    "namespace": ("namespace_glob", STR),
    "vendor_not_affected": ("vendor_not_affected", BOOL),
}
POLICY_KEYS: dict[str, tuple[str, str]] = {
    **_ORDERED,
    **CRITERIA_KEYS,
    "action": ("action", STR),
    "requires_approval": ("requires_approval", BOOL),
    "notify": ("notify_channels", LIST),
    "build_target": ("build_target", STR),
    "owner": ("owner", STR),
}
ADMISSION_KEYS: dict[str, tuple[str, str]] = {
    **_ORDERED,
    **CRITERIA_KEYS,
    "mode": ("mode", STR),
    "require_digest": ("require_digest", BOOL),
}


def _fixable_for_days(days: int | None) -> dict[str, Any]:
    """ "A fix known for more than N days" (empty: no condition) in today's keys."""
    return {} if days is None else {"fix_available": True, "fix_grace_days": days}


DEPRECATED_KEYS: dict[str, tuple[str, Callable[[Any], dict[str, Any]], tuple[str, ...]]] = {
    "fixable_for_days": (INT, _fixable_for_days, ("fix_available", "fix_grace_days")),
}
"""Old key -> (its type, its value in today's keys, the keys it replaces)."""


def deprecation_text(new: dict[str, Any]) -> str:
    """The warning for an old key whose value reads as ``new`` today."""
    if not new:
        return "deprecated: leave it out (empty, it sets no condition)"
    today = " and ".join(f"{key}: {_yaml(value)}" for key, value in new.items())
    return f"deprecated: write {today} instead (the same condition)"


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else str(value)
