from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
pytest_plugins = ["tests.fake_aqua_saas"]


@pytest.fixture
def fixture_bytes():
    def read(relative: str) -> bytes:
        return (FIXTURES / relative).read_bytes()

    return read


@pytest.fixture
def celery_live_worker(settings):
    """A real Celery worker (a thread in this process) on the configured broker."""
    from celery.contrib.testing.worker import start_worker

    from remediator.celery import app

    app.conf.task_always_eager = False
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(app.conf.task_default_queue)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


@pytest.fixture(autouse=True)
def aqua_token_cache_empty():
    """Aqua tokens are cached per process: every test signs in afresh."""
    from remediator.integrations.aqua.auth import token_cache_clear

    token_cache_clear()
    yield
    token_cache_clear()


@pytest.fixture(autouse=True)
def broker_backoff_reset():
    """A publish that failed in one test must not make the next skip the broker
    (remediator/intake/publish.py: BROKER_BACKOFF is per process)."""
    from remediator.intake.publish import BACKOFF

    BACKOFF.reset()
    yield
    BACKOFF.reset()


@pytest.fixture(autouse=True)
def registry_lookups_off(settings):
    """Tests never reach a real registry: tags are judged by their last scan unless a
    test turns ADMISSION_RESOLVE_TAGS on against its own registry."""
    from remediator.engine.admission.tags import tag_lookups_clear

    settings.ADMISSION_RESOLVE_TAGS = False
    tag_lookups_clear()
    yield
    tag_lookups_clear()


@pytest.fixture
def postgresql_server() -> dict[str, str]:
    """A PostgreSQL server for tests of what only PostgreSQL does, whatever database the
    suite runs on: the suite's own when it is PostgreSQL, else POSTGRES_TEST_URL (by
    default this machine's, postgres://postgres@127.0.0.1:5432). {host, port, user,
    password}; the test fails, naming the URL, when none answers."""
    import os
    from urllib.parse import urlsplit

    import psycopg
    from django.db import connection

    if connection.vendor == "postgresql":
        params = connection.settings_dict
        server = {k.lower(): str(params[k] or "") for k in ("HOST", "PORT", "USER", "PASSWORD")}
    else:
        url = urlsplit(os.environ.get("POSTGRES_TEST_URL", "postgres://postgres@127.0.0.1:5432"))
        server = {
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": url.username or "postgres",
            "password": url.password or "",
        }
    server["port"] = server["port"] or "5432"
    dsn = f"host={server['host']} port={server['port']} user={server['user']} dbname=postgres"
    dsn += f" password={server['password']}" if server["password"] else ""
    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"no PostgreSQL answers at {server['host']}:{server['port']} "
            f"(set POSTGRES_TEST_URL): {exc}"
        )
    return server | {"dsn": dsn}


def postgresql_url(server: dict[str, str], database: str) -> str:
    auth = server["user"] + (f":{server['password']}" if server["password"] else "")
    return f"postgres://{auth}@{server['host']}:{server['port']}/{database}"
