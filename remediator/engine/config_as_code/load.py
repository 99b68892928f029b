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
from remediator.teams.models import SlaPolicy

from ..models import ActionKind, AdmissionPolicy, BuildTarget, Policy, Provider
from .keys import (
    ADMISSION_KEYS,
    BOOL,
    DEPRECATED_KEYS,
    DICT,
    INT,
    LIST,
    NULLABLE,
    POLICY_KEYS,
    STR,
    TARGET_KEYS,
    UNIT,
    deprecation_text,
)
from .sla_policies import SLA_KEYS, sla_defaults_check, sla_policy_row
from .teams import TeamRow, teams_load

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
SECTIONS = ("sla_policies", "build_targets", "policies", "admission_policies", "teams")
KINDS = {
    "sla_policies": "SLA policy",
    "build_targets": "build target",
    "policies": "policy",
    "admission_policies": "admission policy",
}
"""Section -> the kind of row it holds (as ``config_apply`` names it)."""


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
    sla_policies: list[dict[str, Any]] | None = None
    """None: the file has no ``sla_policies`` section (prune leaves them alone)."""
    teams: list[TeamRow] = field(default_factory=list)
    deprecated: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(kind, name) -> a warning per old key the row was written with."""

    @property
    def warnings(self) -> list[str]:
        return [warning for notes in self.deprecated.values() for warning in notes]


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
        _sequence_lines(lines, (key_node.value,), section)
    return lines


def _sequence_lines(lines: dict[tuple, int], path: tuple, node: yaml.Node) -> None:
    """The lines of a list's items and of their keys, and of lists within them (a
    team's ownership rules)."""
    if not isinstance(node, yaml.SequenceNode):
        return
    for index, item in enumerate(node.value):
        lines[(*path, index)] = item.start_mark.line + 1
        if isinstance(item, yaml.MappingNode):
            for k, v in item.value:
                lines[(*path, index, k.value)] = v.start_mark.line + 1
                _sequence_lines(lines, (*path, index, k.value), v)


class _Checker:
    def __init__(self, text: str, source: str) -> None:
        self.lines = _line_map(text)
        self.source = source
        self.problems: list[str] = []
        self.deprecated: dict[tuple[str, str], list[str]] = {}

    def at(self, path: tuple) -> str:
        """Where ``path`` is, as ``file:line: section[index].key``."""
        line = next(
            (self.lines[path[:n]] for n in range(len(path), 0, -1) if path[:n] in self.lines),
            None,
        )
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        return f"{self.source}:{line or '?'}: {where}"

    def error(self, path: tuple, message: str) -> None:
        self.problems.append(f"{self.at(path)}: {message}")

    def typed(self, path: tuple, value: Any, expected: str) -> Any:
        """``value`` if of the expected type (numbers allowed where text is), else None."""
        ok = {
            STR: isinstance(value, str)
            or (isinstance(value, int | float) and not isinstance(value, bool)),
            BOOL: isinstance(value, bool),
            INT: isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            LIST: isinstance(value, list) and all(isinstance(v, str) for v in value),
            DICT: isinstance(value, dict),
            UNIT: isinstance(value, int | float)
            and not isinstance(value, bool)
            and 0 <= value <= 1,
        }[expected]
        if ok:
            return str(value) if expected == STR else value
        wanted = "a list of strings" if expected == LIST else expected
        if expected == INT:
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
            entry, notes = self.undeprecated(path, entry, keys)
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
            if notes:
                self.deprecated[(KINDS[section], name)] = notes
            out.append((path, values))
        return out

    def undeprecated(self, path: tuple, entry: dict, keys: dict) -> tuple[dict, list[str]]:
        """``entry`` with its old keys in today's words, and a warning for each."""
        entry, notes = dict(entry), []
        for old, (expected, translate, replaces) in DEPRECATED_KEYS.items():
            if old not in entry or old in keys or not all(key in keys for key in replaces):
                continue
            value = entry.pop(old)
            if value is not None and self.typed((*path, old), value, expected) is None:
                continue
            if any(key in entry for key in replaces):
                today = " and ".join(replaces)
                self.error((*path, old), f"the old name of {today}: give one or the other")
                continue
            new = translate(value)
            entry.update(new)
            notes.append(f"{self.at((*path, old))}: {deprecation_text(new)}")
        return entry, notes


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
    if "sla_policies" in data:
        config.sla_policies = [
            sla_policy_row(checker, path, values)
            for path, values in checker.items(data, "sla_policies", SLA_KEYS)
        ]
        sla_defaults_check(checker, config.sla_policies)
    for path, values in checker.items(data, "build_targets", TARGET_KEYS):
        config.targets.append(_target(checker, path, values, base_dir))
    target_names = {t["name"] for t in config.targets}
    for path, values in checker.items(data, "policies", POLICY_KEYS):
        config.policies.append(_policy(checker, path, values, target_names))
    for path, values in checker.items(data, "admission_policies", ADMISSION_KEYS):
        config.admission_policies.append(_admission_policy(checker, path, values))
    config.teams = teams_load(checker, data, _sla_policy_names(data))
    if checker.problems:
        raise ConfigError(checker.problems)
    config.deprecated = checker.deprecated
    return config


def _sla_policy_names(data: dict) -> set[str]:
    """SLA policies a team may name: stored ones, and those the file itself defines."""
    named = data.get("sla_policies")
    in_file = (
        {p.get("name") for p in named if isinstance(p, dict)} if isinstance(named, list) else set()
    )
    return set(SlaPolicy.objects.values_list("name", flat=True)) | {n for n in in_file if n}


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
