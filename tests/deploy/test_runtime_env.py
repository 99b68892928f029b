"""The settings half of the image's start check: ``python -m remediator.core.runtime_env ROLE``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from remediator.core.runtime_env import (
    EX_CONFIG,
    ROLES,
    SECRET_PREFIXES,
    SECRETS_READ_FROM_FILES,
    environment_problems,
    main,
)

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-value-never-printed"
COMPLETE = {
    "SECRET_KEY": SECRET,
    "DATABASE_URL": f"postgres://remediator:{SECRET}@db:5432/remediator",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "ADMISSION_TOKEN": SECRET,
}


def named(problems: list[str]) -> list[str]:
    """The setting each problem names first."""
    return [problem.split(" ", 1)[0] for problem in problems]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_content_with_the_complete_environment(role):
    assert environment_problems(role, COMPLETE) == []


@pytest.mark.parametrize(
    ("role", "missing"),
    [
        ("web", ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"]),
        ("worker", ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"]),
        ("beat", ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"]),
        ("admission", ["SECRET_KEY", "DATABASE_URL", "ADMISSION_TOKEN"]),
        ("migrate", ["SECRET_KEY", "DATABASE_URL"]),
    ],
)
def test_an_empty_environment_names_what_each_role_needs(role, missing):
    assert named(environment_problems(role, {})) == missing


def test_a_blank_value_counts_as_missing():
    environ = {**COMPLETE, "SECRET_KEY": "  ", "CELERY_BROKER_URL": ""}

    assert named(environment_problems("web", environ)) == ["SECRET_KEY", "CELERY_BROKER_URL"]


def test_a_readable_file_setting_stands_in_for_the_value(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(SECRET)
    environ = {**COMPLETE, "SECRET_KEY_FILE": str(secret_file)}
    del environ["SECRET_KEY"]

    assert environment_problems("web", environ) == []


def test_a_file_setting_naming_an_unreadable_path_is_a_problem(tmp_path):
    missing = tmp_path / "absent"
    environ = {**COMPLETE, "DATABASE_URL_FILE": str(missing)}
    del environ["DATABASE_URL"]

    problems = environment_problems("migrate", environ)

    assert problems == [
        f"DATABASE_URL_FILE names {str(missing)!r}, which this container cannot read"
    ]


def test_admission_may_go_without_a_token_only_when_told_to():
    environ = {k: v for k, v in COMPLETE.items() if k != "ADMISSION_TOKEN"}

    assert named(environment_problems("admission", environ)) == ["ADMISSION_TOKEN"]
    for value in ("true", "1", "YES", "on"):
        allowed = {**environ, "ADMISSION_ALLOW_UNAUTHENTICATED": value}
        assert environment_problems("admission", allowed) == []
    refused = {**environ, "ADMISSION_ALLOW_UNAUTHENTICATED": "false"}
    assert named(environment_problems("admission", refused)) == ["ADMISSION_TOKEN"]


@pytest.mark.parametrize("role", ["admission", "migrate"])
def test_roles_that_never_publish_a_task_need_no_broker(role):
    environ = {k: v for k, v in COMPLETE.items() if k != "CELERY_BROKER_URL"}

    assert environment_problems(role, environ) == []


@pytest.mark.parametrize("given", ["TLS_CERT_FILE", "TLS_KEY_FILE"])
def test_a_tls_certificate_and_key_go_together(tmp_path, given):
    path = tmp_path / "tls.pem"
    path.write_text("pem")
    environ = {**COMPLETE, given: str(path)}

    assert environment_problems("web", environ) == [
        "TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither"
    ]
    both = {**COMPLETE, "TLS_CERT_FILE": str(path), "TLS_KEY_FILE": str(path)}
    assert environment_problems("admission", both) == []


def test_an_unknown_role_is_one_problem_listing_the_roles():
    assert environment_problems("scheduler", COMPLETE) == [
        "unknown role 'scheduler': one of web, admission, worker, beat, migrate"
    ]


def test_main_exits_78_with_one_stderr_line_per_problem(monkeypatch, capsys):
    for name in list(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", COMPLETE["DATABASE_URL"])

    status = main(["runtime_env", "worker"])

    captured = capsys.readouterr()
    assert status == EX_CONFIG == 78
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"remediator worker: {problem}"
        for problem in environment_problems("worker", {"DATABASE_URL": "set"})
    ]
    assert len(captured.err.splitlines()) == 2
    assert SECRET not in captured.err


def test_main_exits_0_silently_when_all_is_set(monkeypatch, capsys):
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in COMPLETE.items():
        monkeypatch.setenv(name, value)

    assert main(["runtime_env", "beat"]) == 0
    assert capsys.readouterr().err == ""


def test_run_as_a_module_before_django_loads(tmp_path):
    """As the entrypoint runs it: a bare interpreter, no DJANGO_SETTINGS_MODULE."""
    env = {"PATH": os.environ.get("PATH", ""), "SECRET_KEY": SECRET}

    done = subprocess.run(
        [sys.executable, "-m", "remediator.core.runtime_env", "web"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 78
    assert done.stdout == ""
    assert [line.split(":", 1)[0] for line in done.stderr.splitlines()] == ["remediator web"] * 2
    assert "DATABASE_URL is not set" in done.stderr
    assert "CELERY_BROKER_URL is not set" in done.stderr
    assert SECRET not in done.stderr


def test_a_file_setting_of_another_program_is_none_of_its_business(tmp_path):
    missing = str(tmp_path / "nowhere")
    environ = {**COMPLETE, "TF_CLI_CONFIG_FILE": missing, "SSL_CERT_FILE": missing}

    assert environment_problems("web", environ) == []


@pytest.mark.parametrize(
    "name", ["WEBHOOK_SECRET_TRIVY_FILE", "REMEDIATOR_SECRET_GITHUB_FILE", "REGISTRY_AUTH_FILE"]
)
def test_a_file_remediator_reads_must_be_readable(tmp_path, name):
    missing = str(tmp_path / "nowhere")

    problems = environment_problems("worker", {**COMPLETE, name: missing})

    assert problems == [f"{name} names {missing!r}, which this container cannot read"]


def test_every_secret_the_code_reads_from_a_file_is_checked():
    sources = ROOT.glob("remediator/**/*.py")
    named = {
        name
        for path in sources
        for name in re.findall(r'(?:env_secret|read_secret)\(\s*"([A-Z_]+)"', path.read_text())
    }

    assert named, "the pattern found no secret: it no longer matches the code"
    unchecked = {
        name
        for name in named
        if name not in SECRETS_READ_FROM_FILES and not name.startswith(SECRET_PREFIXES)
    }
    assert unchecked == set()
