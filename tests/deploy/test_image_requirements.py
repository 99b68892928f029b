"""deploy/image/requirements.txt pins what pyproject.toml asks for, and nothing for development."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
REQUIREMENTS = ROOT / "deploy" / "image" / "requirements.txt"


def pinned_lines() -> list[str]:
    lines = (line.strip() for line in REQUIREMENTS.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def pins() -> dict[str, Version]:
    """PEP 503 name -> pinned version (lines that are not a pin are left to the test above)."""
    found = {}
    for line in pinned_lines():
        name, _, version = line.partition("==")
        if version and not line.startswith("-"):
            found[canonicalize_name(name)] = Version(version)
    return found


def applies(requirement: Requirement, extras: set[str]) -> bool:
    """Whether ``requirement`` is needed here (Linux, this Python) with ``extras`` asked for."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({"extra": extra}) for extra in extras or {""})


def extra_requirements(requirement: Requirement) -> list[Requirement]:
    """What each extra of ``requirement`` (``psycopg[binary]``) adds, from its metadata."""
    requires = metadata.requires(requirement.name) or []
    added = []
    for line in map(Requirement, requires):
        extra_only = line.marker is not None and "extra" in str(line.marker)
        if extra_only and any(line.marker.evaluate({"extra": e}) for e in requirement.extras):
            line.marker = None  # evaluated: needed
            added.append(line)
    return added


def runtime_closure() -> set[str]:
    """Every distribution the [project] dependencies pull in (from installed metadata)."""
    seen: set[str] = set()
    queue = [Requirement(line) for line in PROJECT["dependencies"]]
    while queue:
        requirement = queue.pop()
        name = canonicalize_name(requirement.name)
        if not applies(requirement, set()):
            continue
        queue.extend(extra_requirements(requirement))
        if name in seen:
            continue
        seen.add(name)
        requires = metadata.requires(requirement.name) or []
        queue.extend(r for r in map(Requirement, requires) if applies(r, set()))
    return seen


def test_every_line_is_name_equals_version():
    for line in pinned_lines():
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        assert not requirement.extras and requirement.marker is None and requirement.url is None
        assert "--" not in line and "#" not in line and "://" not in line, line
        Version(specifier.version)  # a real version, not a wildcard


def test_no_package_is_pinned_twice():
    names = [canonicalize_name(line.split("==")[0]) for line in pinned_lines()]

    assert len(names) == len(set(names))


@pytest.mark.parametrize("line", PROJECT["dependencies"])
def test_every_project_dependency_is_pinned_within_its_specifier(line):
    requirement = Requirement(line)
    pinned = pins()

    name = canonicalize_name(requirement.name)
    assert name in pinned, f"{requirement.name} is not in {REQUIREMENTS.name}"
    assert requirement.specifier.contains(pinned[name], prereleases=True), (
        f"{requirement.name}=={pinned[name]} does not satisfy {requirement.specifier}"
    )
    for extra in extra_requirements(requirement):
        extra_name = canonicalize_name(extra.name)
        assert extra_name in pinned, f"{line} needs {extra.name}, which is not pinned"
        assert extra.specifier.contains(pinned[extra_name], prereleases=True), str(extra)


def test_the_extras_packages_are_pinned():
    """psycopg[binary] and kombu[sqlalchemy] bring their compiled driver and SQLAlchemy."""
    assert {"psycopg-binary", "sqlalchemy"} <= set(pins())


def test_nothing_pinned_is_for_development_only():
    runtime = runtime_closure()
    development = {
        canonicalize_name(Requirement(line).name)
        for group in PROJECT["optional-dependencies"].values()
        for line in group
    }

    assert not (development - runtime) & set(pins())


def test_everything_pinned_is_needed_by_the_runtime_dependencies():
    runtime = runtime_closure()

    assert set(pins()) - runtime == set()
