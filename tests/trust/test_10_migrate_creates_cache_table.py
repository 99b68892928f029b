"""Class 10: ``manage.py migrate`` alone creates everything the app needs, the database
cache table included, so that ``ingest`` of a Kubernetes report right after it works.

Real processes on a fresh database: a new SQLite file, and a new PostgreSQL
database (on the suite's server, else this machine's: tests/conftest.py), dropped after.
"""

from __future__ import annotations

import json
import secrets

import psycopg
import pytest

from ..conftest import FIXTURES, postgresql_url
from ._faults_support import app_env, manage

K8S = FIXTURES / "trivy" / "k8s" / "report_all_three_images.json"
CACHE_TABLE = "remediator_cache"  # CACHE_URL's default: dbcache://remediator_cache


def migrate_then_ingest(env: dict) -> dict:
    migrated = manage(env, "migrate", "--noinput", "-v0", timeout=300)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    ingested = manage(env, "ingest", "--source", "trivy-k8s", str(K8S))
    assert ingested.returncode == 0, ingested.stderr[-3000:]
    assert "Traceback" not in ingested.stderr
    return json.loads(ingested.stdout)


def test_migrate_alone_then_ingest_of_a_kubernetes_report_on_a_fresh_sqlite(tmp_path):
    env = app_env(tmp_path / "data")

    result = migrate_then_ingest(env)

    assert result["images"] == 3 and len(result["scans"]) == 3
    tables = manage(
        env,
        "shell",
        "-c",
        "from django.db import connection; print(connection.introspection.table_names())",
    )
    assert CACHE_TABLE in tables.stdout
    # createcachetable stays harmless: the table is there, it changes nothing.
    again = manage(env, "createcachetable")
    assert again.returncode == 0 and again.stderr == ""


@pytest.fixture
def fresh_postgres_database(postgresql_server):
    name = f"remediator_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(postgresql_server["dsn"], autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgresql_url(postgresql_server, name)
    finally:
        with psycopg.connect(postgresql_server["dsn"], autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrate_alone_then_ingest_of_a_kubernetes_report_on_a_fresh_postgresql(
    tmp_path, fresh_postgres_database
):
    env = app_env(tmp_path / "data", DATABASE_URL=fresh_postgres_database)

    result = migrate_then_ingest(env)

    assert result["images"] == 3
    with psycopg.connect(fresh_postgres_database.replace("postgres://", "postgresql://")) as db:
        found = db.execute("SELECT to_regclass(%s)", [CACHE_TABLE]).fetchone()[0]
    assert found == CACHE_TABLE
