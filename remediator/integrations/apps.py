from django.apps import AppConfig
from django.core import checks

from findings.events import event_handler_register
from remediator.integrations.checks import outbound_urls_check, registry_files_check


class IntegrationsConfig(AppConfig):
    """One folder per outside system; an app so that Harbor's event handling is
    registered with findings (which never imports integrations) at start-up."""

    name = "remediator.integrations"
    verbose_name = "Integrations"

    def ready(self) -> None:
        # Django requires this in ready(): the handler imports findings' models.
        from remediator.integrations.harbor.events import HARBOR_EVENTS

        event_handler_register(HARBOR_EVENTS)
        checks.register(outbound_urls_check)
        checks.register(registry_files_check)
