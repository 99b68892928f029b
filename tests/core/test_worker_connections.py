"""A Celery worker keeps its database connection from task to task (WORKER_CONN_MAX_AGE),
and closes it around a task when it is too old or broken, as Django does around a web
request; Celery's Django fixup no longer closes it every time."""

from __future__ import annotations

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import celeryd_init, task_postrun, task_prerun
from django.conf import settings
from django.db import connection

from remediator.celery import app


class _Task:
    def __init__(self, *, eager: bool) -> None:
        self.request = type("Request", (), {"is_eager": eager})()


@pytest.fixture
def max_age():
    """Set the connection's CONN_MAX_AGE for the test; reconnect so it takes effect."""
    saved = connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["CONN_HEALTH_CHECKS"]

    def set_to(seconds: int) -> None:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = seconds
        connection.ensure_connection()

    yield set_to
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["CONN_HEALTH_CHECKS"] = saved


@pytest.mark.django_db(transaction=True)
def test_a_connection_within_its_age_is_kept_around_a_task(max_age) -> None:
    max_age(60)
    opened = connection.connection
    task_prerun.send(sender=_Task(eager=False))
    task_postrun.send(sender=_Task(eager=False))
    assert connection.connection is opened


@pytest.mark.django_db(transaction=True)
def test_an_obsolete_connection_is_closed_around_a_task_but_not_in_an_eager_one(max_age) -> None:
    max_age(0)  # the web's default: a connection lives for one request (one task)
    opened = connection.connection
    task_postrun.send(sender=_Task(eager=True))  # ran inside its caller's transaction
    assert connection.connection is opened
    task_postrun.send(sender=_Task(eager=False))
    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_met_an_error_is_closed_when_unusable(max_age, monkeypatch) -> None:
    max_age(60)
    connection.errors_occurred = True  # a statement failed: the server went away
    # (SQLite's connections are always usable: the answer PostgreSQL's would give)
    monkeypatch.setattr(connection, "is_usable", lambda: False)
    task_prerun.send(sender=_Task(eager=False))
    assert connection.connection is None
    monkeypatch.undo()
    connection.ensure_connection()  # the next task connects afresh
    assert connection.is_usable()


@pytest.mark.django_db(transaction=True)
def test_celery_s_django_fixup_no_longer_closes_the_connection_around_each_task(max_age) -> None:
    max_age(60)
    opened = connection.connection
    fixup = DjangoWorkerFixup(app)
    assert fixup.db_reuse_max == settings.CELERY_DB_REUSE_MAX
    for _ in range(10):  # prerun and postrun of five tasks
        fixup.close_database()
    assert connection.connection is opened


def test_a_command_line_worker_keeps_connections_for_worker_conn_max_age() -> None:
    database = settings.DATABASES["default"]
    saved = database["CONN_MAX_AGE"], database.get("CONN_HEALTH_CHECKS", False)
    try:
        celeryd_init.send(sender="worker@test", instance=None, conf=app.conf, options={})
        assert database["CONN_MAX_AGE"] == settings.WORKER_CONN_MAX_AGE == 60
        assert database["CONN_HEALTH_CHECKS"] is True
    finally:
        database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"] = saved
