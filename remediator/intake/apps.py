from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """An app for its tasks (Celery finds them in ``tasks.py``) and its commands
    (``manage.py ingest``, ``manage.py spool_replay``); it has no models of its own."""

    name = "remediator.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        # queue.py hands deliveries to their task by its name; registered here, every
        # process (and a test that runs tasks in place) has it, not only workers.
        from . import tasks  # noqa: F401
