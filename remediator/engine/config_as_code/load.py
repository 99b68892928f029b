"""Reading and validating a config-as-code YAML file: every problem, with its line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models

from findings.models import Severity
from remediator.core.secrets import target_secret_problem
from remediator.integrations.outbound import outbound_url_problem

from ..models import ActionKind, AdmissionPolicy, BuildTarget, Policy, Provider

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_STR, _BOOL, _INT, _LIST, _DICT = "a string", "true or false", "a whole number", "a list", "a map"
_UNIT = "a number from 0 to 1"
NULLABLE = {"fix_available", "fixable_for_days", "min_epss"}
"""Keys whose null means "no condition"."""

# YAML key -> (model field, expected type)
TARGET_KEYS: dict[str, tuple[str, str]] = {
    "name": ("name", _STR),
    "images": ("image_patterns", _LIST),
    "provider": ("provider", _STR),
    "url": ("url", _STR),
    "project": ("project", _STR),
    "ref": ("ref", _STR),
    "workflow": ("workflow", _STR),
    "username": ("username", _STR),
    "token_env": ("token_env", _STR),
    "api_token_env": ("api_token_env", _STR),
    "dockerfile": ("dockerfile", _STR),
    "dockerfile_file": ("dockerfile", _STR),
    "dockerfile_path": ("dockerfile_path", _STR),
    "options": ("options", _DICT),
    "enabled": ("enabled", _BOOL),
}
POLICY_KEYS: dict[str, tuple[str, str]] = {
    "name": ("name", _STR),
    "order": ("order", _INT),
    "enabled": ("enabled", _BOOL),
    "description": ("description", _STR),
    "min_severity": ("min_severity", _STR),
    "fix_available": ("fix_available", _BOOL),
    "include_wont_fix": ("include_wont_fix", _BOOL),
    "package": ("package_glob", _STR),
    "image": ("image_glob", _STR),
    "vulnerabilities": ("vulnerability_ids", _LIST),
    "min_age_days": ("min_age_days", _INT),
    "fix_grace_days": ("fix_grace_days", _INT),
    "kev": ("kev", _BOOL),
    "min_epss": ("min_epss", _UNIT),
    "running": ("running", _BOOL),
    "namespace": ("namespace_glob", _STR),
    "action": ("action", _STR),
    "requires_approval": ("requires_approval", _BOOL),
    "notify": ("notify_channels", _LIST),
    "build_target": ("build_target", _STR),
    "owner": ("owner", _STR),
}


# admission_policies: the Kubernetes webhook's rules (AdmissionPolicy)
ADMISSION_KEYS: dict[str, tuple[str, str]] = {
    "name": ("name", _STR),
    "order": ("order", _INT),
    "enabled": ("enabled", _BOOL),
    "description": ("description", _STR),
    "mode": ("mode", _STR),
    "min_severity": ("min_severity", _STR),
    "fixable_for_days": ("fixable_for_days", _INT),
    "kev": ("kev", _BOOL),
    "min_epss": ("min_epss", _UNIT),
    "image": ("image_glob", _STR),
    "namespace": ("namespace_glob", _STR),
    "require_digest": ("require_digest", _BOOL),
}


SECTIONS = ("build_targets", "policies", "admission_policies")


def _defaults(model: type[models.Model], keys: dict[str, tuple[str, str]], required: set[str]):
    """The model's own defaults for every field a YAML entry may leave out."""
    names = {field for key, (field, _) in keys.items() if key not in required}
    return {name: model._meta.get_field(name).get_default() for name in sorted(names)}


class ConfigError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Config:
    targets: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    admission_policies: list[dict[str, Any]] = field(default_factory=list)


def _line_map(text: str) -> dict[tuple, int]:
    """(section, index[, key]) -> 1-based line, from YAML node marks."""
    lines: dict[tuple, int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    if not isinstance(root, yaml.MappingNode):
        return lines
    for key_node, section in root.value:
        lines[(key_node.value,)] = key_node.start_mark.line + 1
        if isinstance(section, yaml.SequenceNode):
            for index, item in enumerate(section.value):
                lines[(key_node.value, index)] = item.start_mark.line + 1
                if isinstance(item, yaml.MappingNode):
                    for k, v in item.value:
                        lines[(key_node.value, index, k.value)] = v.start_mark.line + 1
    return lines


class _Checker:
    def __init__(self, text: str, source: str) -> None:
        self.lines = _line_map(text)
        self.source = source
        self.problems: list[str] = []

    def error(self, path: tuple, message: str) -> None:
        line = self.lines.get(path) or self.lines.get(path[:2]) or self.lines.get(path[:1])
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        self.problems.append(f"{self.source}:{line or '?'}: {where}: {message}")

    def typed(self, path: tuple, value: Any, expected: str) -> Any:
        """``value`` if of the expected type (numbers allowed where text is), else None."""
        ok = {
            _STR: isinstance(value, str)
            or (isinstance(value, int | float) and not isinstance(value, bool)),
            _BOOL: isinstance(value, bool),
            _INT: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            _LIST: isinstance(value, list) and all(isinstance(v, str) for v in value),
            _DICT: isinstance(value, dict),
            _UNIT: isinstance(value, int | float)
            and not isinstance(value, bool)
            and 0 <= value <= 1,
        }[expected]
        if ok:
            return str(value) if expected == _STR else value
        wanted = "a list of strings" if expected == _LIST else expected
        if expected == _INT:
            wanted = "a whole number >= 0"
        self.error(path, f"must be {wanted}, not {value!r}")
        return None

    def items(self, data: dict, section: str, keys: dict) -> list[tuple[tuple, dict]]:
        entries = data.get(section) or []
        if not isinstance(entries, list):
            self.error((section,), "must be a list")
            return []
        out, seen = [], set()
        for index, entry in enumerate(entries):
            path = (section, index)
            if not isinstance(entry, dict):
                self.error(path, "must be a map of keys")
                continue
            values: dict[str, Any] = {}
            for key, value in entry.items():
                if key not in keys:
                    self.error((*path, key), f"unknown key (known: {', '.join(keys)})")
                elif value is not None or key in NULLABLE:
                    checked = (
                        value if value is None else self.typed((*path, key), value, keys[key][1])
                    )
                    if checked is not None or value is None:
                        values[key] = checked
            name = values.get("name")
            if not name:
                self.error(path, "name is required")
                continue
            if not _SLUG.match(name):
                self.error((*path, "name"), "use letters, digits, '-' and '_' only")
            if name in seen:
                self.error((*path, "name"), f"duplicate name {name!r}")
            seen.add(name)
            out.append((path, values))
        return out


def config_load(text: str, *, base_dir: Path, source: str = "config") -> Config:
    """The validated content of a YAML config file; ConfigError lists every problem."""
    checker = _Checker(text, source)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: the top level must be a map with build_targets/policies"])
    for key in data:
        if key not in SECTIONS:
            checker.error((key,), f"unknown section (known: {', '.join(SECTIONS)})")
    config = Config()
    for path, values in checker.items(data, "build_targets", TARGET_KEYS):
        config.targets.append(_target(checker, path, values, base_dir))
    target_names = {t["name"] for t in config.targets}
    for path, values in checker.items(data, "policies", POLICY_KEYS):
        config.policies.append(_policy(checker, path, values, target_names))
    for path, values in checker.items(data, "admission_policies", ADMISSION_KEYS):
        config.admission_policies.append(_admission_policy(checker, path, values))
    if checker.problems:
        raise ConfigError(checker.problems)
    return config


def _target(checker: _Checker, path: tuple, values: dict, base_dir: Path) -> dict:
    provider = values.get("provider")
    if provider is None:
        checker.error(path, f"provider is required ({', '.join(Provider.values)})")
    elif provider not in Provider.values:
        checker.error(
            (*path, "provider"), f"unknown provider {provider!r} ({', '.join(Provider.values)})"
        )
    if provider in ("github", "gitlab", "jenkins") and not values.get("project"):
        checker.error(path, f"project is required for {provider}")
    if provider == "github" and not values.get("workflow"):
        checker.error(path, "workflow is required for github (the workflow file name or id)")
    if provider in ("jenkins", "webhook") and not values.get("url"):
        checker.error(path, f"url is required for {provider}")
    if values.get("url"):
        try:
            URLValidator(schemes=["http", "https"])(values["url"])
        except ValidationError:
            checker.error((*path, "url"), f"not an http(s) URL: {values['url']!r}")
        else:
            if problem := outbound_url_problem(values["url"]):
                checker.error((*path, "url"), problem)
    for key in ("token_env", "api_token_env"):
        if values.get(key) and (problem := target_secret_problem(values[key])):
            checker.error((*path, key), problem)
    if "dockerfile" in values and "dockerfile_file" in values:
        checker.error(path, "give dockerfile or dockerfile_file, not both")
    elif values.get("dockerfile_file"):
        try:
            values["dockerfile"] = (base_dir / values.pop("dockerfile_file")).read_text()
        except OSError as exc:
            checker.error((*path, "dockerfile_file"), f"cannot read it: {exc.strerror}")
    row = _defaults(BuildTarget, TARGET_KEYS, required={"name", "provider", "project"})
    row.update({TARGET_KEYS[k][0]: v for k, v in values.items() if k != "dockerfile_file"})
    return row


def _policy(checker: _Checker, path: tuple, values: dict, target_names: set[str]) -> dict:
    if values.get("min_severity", "unknown") not in Severity.values:
        checker.error((*path, "min_severity"), f"unknown severity ({', '.join(Severity.values)})")
    if "action" not in values:
        checker.error(path, f"action is required ({', '.join(ActionKind.values)})")
    elif values["action"] not in ActionKind.values:
        checker.error((*path, "action"), f"unknown action ({', '.join(ActionKind.values)})")
    target = values.get("build_target")
    if (
        target
        and target not in target_names
        and not BuildTarget.objects.filter(name=target).exists()
    ):
        checker.error((*path, "build_target"), f"no build target named {target!r}")
    owner = values.get("owner")
    if owner and not get_user_model().objects.filter(username=owner).exists():
        checker.error((*path, "owner"), f"no user named {owner!r}")
    row = _defaults(Policy, POLICY_KEYS, required={"name", "action"})
    row["order"] = (path[1] + 1) * 10
    row.update({POLICY_KEYS[k][0]: v for k, v in values.items()})
    return row


def _admission_policy(checker: _Checker, path: tuple, values: dict) -> dict:
    if values.get("min_severity", "critical") not in Severity.values:
        checker.error((*path, "min_severity"), f"unknown severity ({', '.join(Severity.values)})")
    modes = AdmissionPolicy.Mode.values
    if values.get("mode", "enforce") not in modes:
        checker.error((*path, "mode"), f"unknown mode ({', '.join(modes)})")
    row = _defaults(AdmissionPolicy, ADMISSION_KEYS, required={"name"})
    row["order"] = (path[1] + 1) * 10
    row.update({ADMISSION_KEYS[k][0]: v for k, v in values.items()})
    return row
