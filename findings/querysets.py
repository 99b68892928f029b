"""Named reads of findings, shared by the API, the dashboard and the engine."""

from __future__ import annotations

from django.db import models

ACTIVE_STATUSES = ("open", "in_remediation")


class FindingQuerySet(models.QuerySet):
    def open(self) -> FindingQuerySet:
        """Still present in the newest scan and not accepted or dismissed."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def fixable(self) -> FindingQuerySet:
        return self.filter(fixable=True)

    def at_least(self, severity: str) -> FindingQuerySet:
        from .models import SEVERITY_RANK

        return self.filter(severity_rank__gte=SEVERITY_RANK[severity])

    def for_repository(self, text: str) -> FindingQuerySet:
        """By repository, written with or without its registry.

        'docker.io/library/alpine', 'library/alpine' and 'alpine' all match.
        """
        first, _, rest = text.partition("/")
        if rest and ("." in first or ":" in first or first == "localhost"):
            return self.filter(repository__registry=first, repository__name=rest)
        name = text if "/" in text else f"library/{text}"
        return self.filter(repository__name__in={text, name})
