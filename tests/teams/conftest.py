"""Fixtures the teams tests share with the engine's."""

from tests.engine.conftest import eager  # noqa: F401  (runs Celery tasks in the caller)
