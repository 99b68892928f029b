from django.apps import AppConfig


class RemediatorConfig(AppConfig):
    name = "remediator"
    verbose_name = "Remediation"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects scan_ingested -> scan_evaluate_task)
