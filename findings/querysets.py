"""Named reads of findings, shared by the API, the dashboard and the engine."""

from __future__ import annotations

from datetime import datetime

from django.apps import apps
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery

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

    def _heads(self) -> models.QuerySet:
        """The stream heads of the finding's present witnesses, newest first."""
        witness = apps.get_model("findings", "FindingWitness")
        stream = apps.get_model("findings", "ScannerStream")
        present = witness.objects.filter(finding=OuterRef(OuterRef("pk")), present=True)
        return stream.objects.filter(
            tag=OuterRef("tag_id"), scanner_key__in=present.values("scanner_key")
        ).order_by("-scanned_at", "-scan_id")

    def with_last_seen(self) -> FindingQuerySet:
        """Annotate the live last sighting (``Finding.seen_at``/``seen_scan_id`` read it):
        while a witness still lists a finding, its scanner's newest scan of the tag saw it,
        and that scan is not written on the finding's row."""
        heads = self._heads()
        return self.annotate(
            head_seen_at=Subquery(heads.values("scanned_at")[:1]),
            head_scan_id=Subquery(heads.values("scan_id")[:1]),
        )

    def seen_since(self, at: datetime) -> FindingQuerySet:
        """Last seen at ``at`` or later (live, as ``with_last_seen``)."""
        return self.filter(Q(last_seen__gte=at) | Exists(self._heads().filter(scanned_at__gte=at)))
