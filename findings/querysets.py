"""Named reads of findings, shared by the API, the dashboard and the engine."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from remediator.core.severity import SEVERITY_RANK

ACTIVE_STATUSES = ("open", "in_remediation")


def repository_q(text: str, prefix: str = "") -> Q:
    """A repository written with or without its registry, as people type it:
    'docker.io/library/alpine', 'library/alpine' and 'alpine' all match.
    ``prefix`` is the path to the Repository, e.g. "repository__"."""
    text = text.strip()
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return Q(**{f"{prefix}registry": first, f"{prefix}name": rest})
    name = text if "/" in text else f"library/{text}"
    return Q(**{f"{prefix}name__in": {text, name}})


class FindingQuerySet(models.QuerySet):
    def open(self) -> FindingQuerySet:
        """Still present in the newest scan and not accepted or dismissed."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def fixable(self) -> FindingQuerySet:
        return self.filter(fixable=True)

    def at_least(self, severity: str) -> FindingQuerySet:
        return self.filter(severity_rank__gte=SEVERITY_RANK[severity])

    def for_repository(self, text: str) -> FindingQuerySet:
        """By repository, written with or without its registry (see repository_q)."""
        return self.filter(repository_q(text, "repository__"))
