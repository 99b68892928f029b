"""Class 10: ``manage.py migrate`` alone creates everything the app needs, the database
cache table included, so that ``ingest`` of a Kubernetes report right after it works.

Real processes on a fresh database: always a new SQLite file; also a new PostgreSQL
database when the suite runs on PostgreSQL (created on the same server, dropped after).
"""

from __future__ import annotations

import json
import secrets

import psycopg
import pytest
from django.db import connection

from ..conftest import FIXTURES
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
def fresh_postgres_database():
    params = connection.settings_dict
    name = f"remediator_migrate_{secrets.token_hex(4)}"
    dsn = f"host={params['HOST']} port={params['PORT']} user={params['USER']} dbname=postgres"
    if params["PASSWORD"]:
        dsn += f" password={params['PASSWORD']}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = params["USER"] + (f":{params['PASSWORD']}" if params["PASSWORD"] else "")
    try:
        yield f"postgres://{auth}@{params['HOST']}:{params['PORT']}/{name}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a PostgreSQL server")
def test_migrate_alone_then_ingest_of_a_kubernetes_report_on_a_fresh_postgresql(
    tmp_path, fresh_postgres_database
):
    env = app_env(tmp_path / "data", DATABASE_URL=fresh_postgres_database)

    result = migrate_then_ingest(env)

    assert result["images"] == 3
    with psycopg.connect(fresh_postgres_database.replace("postgres://", "postgresql://")) as db:
        found = db.execute("SELECT to_regclass(%s)", [CACHE_TABLE]).fetchone()[0]
    assert found == CACHE_TABLE
