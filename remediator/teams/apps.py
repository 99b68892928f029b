from django.apps import AppConfig


class TeamsConfig(AppConfig):
    """Who owns which images (teams and their ownership rules) and how soon their findings
    must be fixed (SLA policies). Models and pure rules only: the engine applies them."""

    name = "remediator.teams"
    label = "teams"
    verbose_name = "Teams and deadlines"
