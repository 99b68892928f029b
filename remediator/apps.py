from django.apps import AppConfig


class RemediatorConfig(AppConfig):
    name = "remediator"
    verbose_name = "Remediation"
