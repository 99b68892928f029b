"""The Celery app. Tasks live in each app's tasks.py and are thin."""

import logging.config
import os

from celery import Celery
from celery.signals import celeryd_init, setup_logging, task_postrun, task_prerun

from remediator.core.logging import task_log_context_connect

from .broker import register as register_embedded_broker

register_embedded_broker()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")

app = Celery("remediator")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
task_log_context_connect()


@setup_logging.connect(weak=False)
def _django_logging(**_kwargs) -> None:
    """Workers and beat log as the web processes do: Django's LOGGING, with its secret
    redaction and LOG_FORMAT=json, instead of Celery's own handlers (a receiver of this
    signal tells Celery to leave logging alone)."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@celeryd_init.connect(weak=False)
def _worker_connections(**_kwargs) -> None:
    """A worker started by ``celery worker`` keeps its database connection from task to
    task for WORKER_CONN_MAX_AGE seconds, checked before it is reused (sent before the
    pool forks; not for the tests' in-process worker, which keeps CONN_MAX_AGE)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    database["CONN_MAX_AGE"] = settings.WORKER_CONN_MAX_AGE
    database["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def _connections_checked(sender=None, **_kwargs) -> None:
    """Around each task, as around each web request: a connection older than its
    CONN_MAX_AGE, broken or left mid-transaction by an error is closed (Celery's Django
    fixup, which would close it every time, is held off by CELERY_DB_REUSE_MAX). Not
    within a task run eagerly, in the caller's own transaction."""
    from django.db import close_old_connections

    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
