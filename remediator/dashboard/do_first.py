"""The overview's "Do this first" panel: what needs a person now, each with a count and
a link to the list that shows it. Every figure is a bounded read (counts through
``remediator.core.counting``); the running inventory is read through
``running_exposure`` only, so where the inventory lives is one import.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from remediator.cluster.selectors import exposure_ranking
from remediator.core.counting import ListCount, list_count
from remediator.engine.filters import TAB_STATES
from remediator.engine.models import RemediationAction
from remediator.engine.selectors import actions_overdue_count

RUNNING_RANKED = 1000
"""Running digests read at most for the panel."""


@dataclass(frozen=True)
class FirstThing:
    key: str
    label: str
    count: ListCount
    url: str
    hint: str


def running_exposure(*, limit: int) -> list[dict]:
    """Running digests ranked by exposure (the inventory's one read for the panel)."""
    return exposure_ranking(limit=limit)


def first_things(*, kev: ListCount) -> list[FirstThing]:
    """The panel; ``kev`` is counted by the worker with the overview's other figures
    (the page itself reads no findings)."""
    failed = list_count(RemediationAction.objects.filter(state__in=TAB_STATES["failed"]))
    hours = settings.APPROVAL_OVERDUE_HOURS
    overdue = ListCount(actions_overdue_count(hours=hours))
    running = ListCount(sum(1 for r in running_exposure(limit=RUNNING_RANKED) if r["critical"]))
    return [
        FirstThing(
            "kev",
            "Open KEV findings",
            kev,
            reverse("finding-list") + "?kev=true&sort=risk",
            "Known exploited (CISA KEV), still open",
        ),
        FirstThing(
            "failed",
            "Failed actions",
            failed,
            reverse("action-list") + "?tab=failed",
            "Rebuilds or fixes that failed or did not verify",
        ),
        FirstThing(
            "overdue",
            "Overdue approvals",
            overdue,
            reverse("approval-queue"),
            f"Waiting for approval more than {hours} h",
        ),
        FirstThing(
            "running_critical",
            "Running with criticals",
            running,
            reverse("overview") + "#h-exposed",
            "Digests running in a cluster whose newest scan found criticals",
        ),
    ]
