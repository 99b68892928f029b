"""The Celery app. Tasks live in each app's tasks.py and are thin."""

import os

from celery import Celery

from remediator.core.logging import task_log_context_connect

from .broker import register as register_embedded_broker

register_embedded_broker()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remediator.settings")

app = Celery("remediator")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
task_log_context_connect()
