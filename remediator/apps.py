from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project shell as an app, for one job: every Django process (web, worker,
    beat, manage.py, tests) creates the Celery app at start-up, so that ``.delay()``
    uses our configuration. Importing ``remediator`` alone loads neither."""

    name = "remediator"
    label = "project"
    verbose_name = "Remediator"

    def ready(self) -> None:
        from remediator import celery  # noqa: F401  (Django requires app imports in ready())
