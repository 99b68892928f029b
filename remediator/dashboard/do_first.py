"""The overview's "Do this first" panel: what needs a person now, each with a count and
a link to the list that shows it. The page hands it what it reads anyway (actions by
state, the running digests ranked by exposure); the
overdue approvals are one bounded count.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from remediator.core.counting import ListCount
from remediator.engine.filters import TAB_STATES
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


def first_things(
    *, kev: ListCount, action_counts: dict[str, int], ranked: list[dict]
) -> list[FirstThing]:
    """The panel; ``kev`` is counted by the worker with the overview's other figures
    (the page itself reads no findings), ``action_counts`` is actions by state and
    ``ranked`` the running digests from ``exposure_ranking(limit=RUNNING_RANKED)``."""
    failed = ListCount(sum(action_counts.get(state, 0) for state in TAB_STATES["failed"]))
    hours = settings.APPROVAL_OVERDUE_HOURS
    overdue = ListCount(actions_overdue_count(hours=hours))
    running = ListCount(sum(1 for r in ranked if r["critical"]))
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
