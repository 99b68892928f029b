"""When ownership is worked out again: after the rules or teams change (the admin, config
as code), for a new repository's first scan, and when the inventory sees a repository
in a namespace, or with labels, it had not been seen with.

The work runs in a worker once the change commits (``owners_refresh_task``), or in this
process when the broker does not take it: ownership is never left stale for want of a
broker. A scan refreshes its own repository only while it has no owner's reason, so the
cost per scan stays one repository's rules check.
"""

from __future__ import annotations

import logging

from django.db import transaction

from remediator.intake.publish import BrokerUnavailable, broker_publish
from remediator.teams.models import OwnershipRule

from .ownership import owners_refresh, repositories_of
from .tasks import owners_refresh_task

log = logging.getLogger(__name__)


def owners_refresh_soon(repository_ids: list[int] | None = None) -> None:
    """Refresh the owners of ``repository_ids`` (all for None) once this transaction
    commits: in a worker, else here."""

    def run() -> None:
        try:
            broker_publish(owners_refresh_task, args=[repository_ids])
        except BrokerUnavailable as exc:
            log.warning("ownership: the broker did not take the refresh (%s); doing it here", exc)
            owners_refresh(repositories_of(repository_ids))

    transaction.on_commit(run)


def owners_refresh_sighted(repository_ids: list[int]) -> None:
    """New namespaces or labels were seen for these repositories: refresh them when a
    rule looks at namespaces or labels at all."""
    if OwnershipRule.objects.exclude(namespace_glob="", label_key="").exists():
        owners_refresh_soon(list(repository_ids))
