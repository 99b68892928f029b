"""The start check's second half (``manage.py check_runtime``): the database answers and,
for the long-running roles, carries every migration this code knows.

Containers start in any order (Compose, Kubernetes): a web or worker container that
starts before PostgreSQL accepts connections, or before the migrate role has run, waits
here up to STARTUP_WAIT_SECONDS instead of crashing on its first query, then fails
naming what it waited for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor


def database_error() -> str:
    """ "" when a connection opens and answers, else the kind of error (never a secret)."""
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        connection.close()
        return type(exc).__name__
    return ""


def unapplied_migrations() -> list[str]:
    """``app.migration`` names this code has and the database has not applied, in order."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def database_where() -> str:
    """Host, port and name of the default database: enough to find it, no credentials."""
    config = connection.settings_dict
    if config["ENGINE"].endswith("sqlite3"):
        return f"SQLite {config['NAME']}"
    host = config.get("HOST") or "localhost"
    return f"{host}:{config.get('PORT') or 5432}/{config['NAME']}"


def wait_until(check: Callable[[], str], seconds: float, interval: float = 1.0) -> str:
    """Call ``check`` until it returns "" or ``seconds`` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while True:
        problem = check()
        if not problem or time.monotonic() + interval > deadline:
            return problem
        time.sleep(interval)
