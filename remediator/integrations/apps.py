from django.apps import AppConfig
from django.core import checks

from remediator.integrations.checks import outbound_urls_check, registry_files_check


class IntegrationsConfig(AppConfig):
    """One folder per outside system; an app for its system checks (outbound URLs,
    registry credential files)."""

    name = "remediator.integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        checks.register(outbound_urls_check)
        checks.register(registry_files_check)
