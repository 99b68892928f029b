from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        from . import sqlite  # noqa: F401  (connects the SQLite tuning signal)
