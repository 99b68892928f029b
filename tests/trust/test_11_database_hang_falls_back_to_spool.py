"""Class 11: a database that hangs instead of refusing (a stopped server, a network
partition) falls back to the spool within a bounded time, as one that refuses does.

PostgreSQL connections have a connect timeout (DATABASE_CONNECT_TIMEOUT), TCP keepalives
and a statement timeout: short for web requests, long for workers and commands. The
database here is a real listener that accepts connections and never answers; the web
tier is the Procfile's gunicorn.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ..conftest import FIXTURES, postgresql_url
from ._faults_support import ROOT, SilentListener, app_env, gunicorn, manage, timed

TRIVY = (FIXTURES / "trivy/trivy_docs_reporting_alpine_latest.json").read_bytes()
CONNECT_TIMEOUT = 2
READYZ_TIMEOUT = 2.0
MARGIN = 2.0  # process scheduling on a shared 2-core machine


def bodies(n: int) -> list[bytes]:
    base = TRIVY.rstrip()[:-1]
    return [base + f', "hang_n": {i}}}'.encode() for i in range(n)]


def test_webhook_posts_against_a_database_that_never_answers_are_spooled_in_bounded_time(
    tmp_path,
):
    with (
        SilentListener() as database,
        gunicorn(
            tmp_path,
            migrate=False,
            DATABASE_URL=database.url("postgres", "/remediator").replace("//", "//postgres@"),
            DATABASE_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        ) as web,
    ):
        health, answer = timed(lambda: web.session_get("/healthz"))
        assert answer.status_code == 200 and health <= 1.0

        ready, answer = timed(lambda: web.session_get("/readyz", timeout=30))
        assert answer.status_code == 503 and answer.json()["checks"]["database"]["ok"] is False
        assert ready <= READYZ_TIMEOUT + MARGIN

        sent = bodies(4)
        answers = [web.timed_post(body) for body in sent]
        for seconds, response in answers:
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "spooled"
            # One connect timeout (the rate limit's cache read meets the database first
            # and the body goes straight to the spool), not one per query.
            assert seconds <= CONNECT_TIMEOUT + MARGIN
        assert database.accepted >= len(sent)

    # Nothing lost: the database is back (a real, migrated one) and the spool is replayed.
    env = app_env(web.data_dir)
    assert manage(env, "migrate", "-v0", "--noinput").returncode == 0
    replayed = manage(env, "spool_replay")
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert len(json.loads(replayed.stdout)["stored"]) == len(sent)
    with web.database() as db:
        stored = db.execute("SELECT count(*) FROM findings_delivery").fetchone()[0]
    assert stored == len(sent)


def settings_for(tmp_path, database_url: str, code: str, *, web: bool) -> str:
    """What ``code`` prints in a process configured by ``database_url``: a web process
    (remediator.wsgi loaded, as gunicorn does) or a command (manage.py shell)."""
    env = app_env(tmp_path / "data", DATABASE_URL=database_url)
    if web:
        argv = [sys.executable, "-c", f"import remediator.wsgi\n{code}"]
    else:
        argv = [sys.executable, "manage.py", "shell", "-c", code]
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


OPTIONS = (
    "from django.conf import settings; import json; "
    "print(json.dumps(settings.DATABASES['default']['OPTIONS'], sort_keys=True))"
)


def test_postgresql_connections_are_bounded_and_web_statements_shorter_than_workers(tmp_path):
    url = "postgres://remediator@db.example.com:5432/remediator?sslmode=require"
    command = json.loads(settings_for(tmp_path, url, OPTIONS, web=False))
    web = json.loads(settings_for(tmp_path, url, OPTIONS, web=True))
    assert command["connect_timeout"] == 5
    assert command["keepalives"] == 1 and command["tcp_user_timeout"] == 25_000
    assert command["sslmode"] == "require"  # the URL's own options are kept
    assert command["options"] == "-c statement_timeout=600000"
    assert web["options"] == "-c statement_timeout=30000"


def test_postgresql_sessions_start_with_the_statement_timeout_of_their_process(
    tmp_path, postgresql_server
):
    url = postgresql_url(postgresql_server, "postgres")
    show = (
        "from django.db import connection; cursor = connection.cursor(); "
        "cursor.execute('SHOW statement_timeout'); print(cursor.fetchone()[0])"
    )
    assert settings_for(tmp_path, url, show, web=True) == "30s"
    assert settings_for(tmp_path, url, show, web=False) == "10min"
