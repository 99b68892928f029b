"""``manage.py check_runtime``: settings present, the database answering, the schema current."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from remediator.engine.runtime_readiness import (
    database_error,
    database_where,
    unapplied_migrations,
    wait_until,
)
from tests.outage import closed_port, database_down

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "SECRETPW"
USER = "remediatoruser"


def check_runtime(tmp_path: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` in a fresh process with only the settings given here."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "remediator.settings",
        "SECRET_KEY": "a-long-random-string-for-the-start-check",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed_port()}/0",
    }
    env |= environment
    env = {name: value for name, value in env.items() if value}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


class Answers:
    """A check answering each of ``answers`` in turn, counting the calls."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def test_wait_until_returns_at_the_first_empty_answer():
    check = Answers("database down", "database down", "")

    assert wait_until(check, seconds=60, interval=0) == ""
    assert check.calls == 3


def test_wait_until_gives_the_last_problem_when_time_runs_out():
    check = Answers("OperationalError")

    assert wait_until(check, seconds=0, interval=0.01) == "OperationalError"
    assert check.calls == 1


def test_wait_until_asks_at_least_once_and_once_is_enough_when_all_is_well():
    check = Answers("")

    assert wait_until(check, seconds=0) == ""
    assert check.calls == 1


@pytest.fixture
def described_connection():
    """The default connection's settings, changed in place by the test and restored after
    (nothing is opened; replacing the dictionary on the proxy would not be restored)."""
    saved = dict(connection.settings_dict)
    yield connection.settings_dict
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.fixture
def postgres_settings(described_connection):
    """The default connection described as a PostgreSQL server."""
    described_connection.update(
        ENGINE="django.db.backends.postgresql",
        HOST="db.internal",
        PORT="6543",
        NAME="remediator",
        USER=USER,
        PASSWORD=PASSWORD,
    )
    return described_connection


def test_database_where_names_host_port_and_database_without_credentials(postgres_settings):
    where = database_where()

    assert where == "db.internal:6543/remediator"
    assert PASSWORD not in where and USER not in where


def test_database_where_fills_in_postgres_defaults(postgres_settings):
    postgres_settings.update(HOST="", PORT="")

    assert database_where() == "localhost:5432/remediator"


def test_database_where_names_the_sqlite_file(described_connection):
    described_connection.update(
        ENGINE="django.db.backends.sqlite3", NAME="/var/lib/remediator/remediator.sqlite3"
    )

    assert database_where() == "SQLite /var/lib/remediator/remediator.sqlite3"


@pytest.mark.django_db(transaction=True)
def test_database_error_is_empty_while_the_database_answers_and_names_the_error_when_down():
    assert database_error() == ""
    with database_down():
        assert database_error() == "OperationalError"
    assert database_error() == ""


@pytest.mark.django_db
def test_the_test_database_has_every_migration():
    assert unapplied_migrations() == []


def test_a_missing_setting_exits_78_before_touching_the_database(tmp_path):
    done = check_runtime(
        tmp_path,
        "check_runtime",
        "--role",
        "worker",
        "--wait",
        "0",
        SECRET_KEY="",
        DATABASE_URL=f"postgres://u:{PASSWORD}@127.0.0.1:{closed_port()}/x",
    )

    assert done.returncode == 78, done.stderr
    assert "remediator worker: SECRET_KEY is not set" in done.stderr
    assert "did not answer" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr


def test_a_database_that_does_not_answer_exits_69_naming_where_but_no_credentials(tmp_path):
    port = closed_port()

    done = check_runtime(
        tmp_path,
        "check_runtime",
        "--role",
        "web",
        "--wait",
        "1",
        DATABASE_URL=f"postgres://{USER}:{PASSWORD}@127.0.0.1:{port}/x",
    )

    assert done.returncode == 69, done.stderr
    assert f"the database at 127.0.0.1:{port}/x did not answer within 1 s" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    assert USER not in done.stdout + done.stderr


def test_unapplied_migrations_exit_69_until_the_migrate_role_has_run(tmp_path):
    database = tmp_path / "empty.sqlite3"
    sqlite3.connect(database).close()
    url = f"sqlite:///{database}"

    before = check_runtime(tmp_path, "check_runtime", "--role", "worker", "--wait", "0",
                           DATABASE_URL=url)  # fmt: skip
    migrate_check = check_runtime(tmp_path, "check_runtime", "--role", "migrate", "--wait", "0",
                                  DATABASE_URL=url)  # fmt: skip
    migrated = check_runtime(tmp_path, "migrate", "--noinput", DATABASE_URL=url)
    after = check_runtime(tmp_path, "check_runtime", "--role", "worker", "--wait", "0",
                          DATABASE_URL=url)  # fmt: skip

    assert before.returncode == 69, before.stderr
    assert re.search(r"\d+ migration\(s\) not applied \(first: \w+\.0001_initial\)", before.stderr)
    assert "run the migrate role first" in before.stderr
    assert migrate_check.returncode == 0, migrate_check.stderr  # the migrate role applies them
    assert migrated.returncode == 0, migrated.stderr
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == [
        f"remediator worker: settings present, database SQLite {database} answers"
    ]
