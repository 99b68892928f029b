from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """Every HTML page; an app so that Django finds its template tags."""

    name = "remediator.dashboard"
    verbose_name = "Dashboard"
