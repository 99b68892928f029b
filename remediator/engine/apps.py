from django.apps import AppConfig

from remediator.integrations.http import call_recorder_register


class EngineConfig(AppConfig):
    """The action engine. Its label stays "remediator": tables, migrations and
    permission codenames (``remediator.approve_action``) keep their names."""

    name = "remediator.engine"
    label = "remediator"
    verbose_name = "Remediation"

    def ready(self) -> None:
        # Django requires these in ready(): they import models.
        from remediator.engine import receivers  # noqa: F401  (scan_ingested -> scan_evaluate_task)
        from remediator.engine.audit import audit_call

        call_recorder_register(audit_call)
