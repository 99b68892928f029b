"""deploy/compose: one image in four read-only roles, and the .env make-env.sh writes."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from remediator.core.runtime_env import ROLES, environment_problems

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "deploy" / "compose"
COMPOSE_TEXT = (COMPOSE_DIR / "compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
ROLE_SERVICES = ["migrate", "web", "worker", "beat"]
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def env_file(path: Path) -> dict[str, str]:
    """The settings a Compose .env file sets (comments on their own lines)."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, separator, value = line.partition("=")
            assert separator, f"{path.name}: {line!r} is not NAME=value"
            values[name.strip()] = value
    return values


EXAMPLE = env_file(COMPOSE_DIR / "env.example")


def interpolated(text: str, values: dict[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        name, operator, argument = match.groups()
        value = values.get(name, "")
        if operator in (":-", "-") and not value:
            return argument
        return value

    return INTERPOLATION.sub(substitute, text)


def role_environment(service: str) -> dict[str, str]:
    """What a role's container gets: env_file (.env as env.example writes it), then
    ``environment:`` interpolated from the same file."""
    environment = {
        name: interpolated(str(value), EXAMPLE)
        for name, value in COMPOSE["services"][service]["environment"].items()
    }
    return {**EXAMPLE, **environment}


@pytest.mark.parametrize("service", ROLE_SERVICES)
def test_each_role_runs_the_one_image_read_only_without_capabilities(service):
    definition = COMPOSE["services"][service]

    assert definition["command"] == [service]
    assert definition["image"] == COMPOSE["services"]["web"]["image"]
    assert definition["read_only"] is True
    assert "/tmp" in definition["tmpfs"]
    assert definition["cap_drop"] == ["ALL"]
    assert "data:/var/lib/remediator" in definition["volumes"]
    assert definition["env_file"] == [".env"]


def test_the_data_volume_is_a_named_volume():
    assert "data" in COMPOSE["volumes"]


def test_every_value_compose_requires_is_set_by_env_example():
    required = {
        name
        for name, operator, _ in INTERPOLATION.findall(COMPOSE_TEXT)
        if operator in ("", ":?", "?")
    }

    assert "POSTGRES_PASSWORD" in required
    assert {name for name in required if not EXAMPLE.get(name)} == set()


def test_unbraced_variables_are_not_used():
    """``$NAME`` would be interpolated too; every use is braced (and so checked above)."""
    assert not re.search(r"\$(?!\{|\$)", COMPOSE_TEXT)


@pytest.mark.parametrize("service", ROLE_SERVICES)
def test_each_role_has_what_the_start_check_requires(service):
    assert environment_problems(service, role_environment(service)) == []


def test_env_example_sets_what_every_role_of_the_image_requires():
    """SECRET_KEY, ADMISSION_TOKEN... (the database and broker come from compose.yaml)."""
    environment = {**role_environment("web")}
    for role in ROLES:
        assert environment_problems(role, environment) == [], role
    for name in ("SECRET_KEY", "ADMISSION_TOKEN"):
        assert EXAMPLE[name]


@pytest.fixture
def compose_copy(tmp_path) -> Path:
    """deploy/compose copied into tmp_path/deploy/compose, .env.example two levels up."""
    copy = tmp_path / "deploy" / "compose"
    shutil.copytree(COMPOSE_DIR, copy, ignore=shutil.ignore_patterns(".env"))
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    return copy


def make_env(directory: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["sh", str(directory / "make-env.sh")],
        cwd=directory.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_env_writes_a_private_env_with_distinct_random_secrets(compose_copy):
    done = make_env(compose_copy)

    assert done.returncode == 0, done.stderr
    written = compose_copy / ".env"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    text = written.read_text()
    assert "=change-me" not in text  # (the header comment names it)
    values = env_file(written)
    generated = [name for name, value in EXAMPLE.items() if value == "change-me"]
    assert len(generated) >= 5
    secrets = [values[name] for name in generated]
    assert all(re.fullmatch(r"[0-9a-f]{48}", secret) for secret in secrets), secrets
    assert len(set(secrets)) == len(secrets)
    assert {name: values[name] for name in EXAMPLE if name not in generated} == {
        name: value for name, value in EXAMPLE.items() if name not in generated
    }
    assert set(values) == set(EXAMPLE)  # the appended settings are all commented out
    assert "# DATABASE_URL=" in text  # ... but there, from the root .env.example
    for secret in secrets:
        assert secret not in done.stdout + done.stderr


def test_make_env_gives_each_run_its_own_secrets(compose_copy, tmp_path):
    assert make_env(compose_copy).returncode == 0
    first = env_file(compose_copy / ".env")
    (compose_copy / ".env").unlink()

    assert make_env(compose_copy).returncode == 0
    second = env_file(compose_copy / ".env")

    assert first["SECRET_KEY"] != second["SECRET_KEY"]


def test_make_env_refuses_to_overwrite_an_existing_env(compose_copy):
    existing = compose_copy / ".env"
    existing.write_text("SECRET_KEY=kept\n")

    done = make_env(compose_copy)

    assert done.returncode == 1
    assert "exists" in done.stderr
    assert existing.read_text() == "SECRET_KEY=kept\n"
