"""The Django project shell: settings, urls, wsgi, the Celery app and its broker.

The Celery app is loaded by the entry points (``manage.py``, ``wsgi.py``,
``celery -A remediator.celery``), not here, so that importing a pure module
such as ``remediator.engine.rules`` loads neither Celery nor Django.
"""
