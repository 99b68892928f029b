"""The Celery app. Tasks live in each app's tasks.py and are thin."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

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
