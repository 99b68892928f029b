"""The approval queue: actions waiting for a person, with what they would fix."""

from __future__ import annotations

from collections import defaultdict

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from findings.models import Finding
from remediator.core import permissions
from remediator.dashboard.buttons import approval_buttons
from remediator.dashboard.common import keyset_page, require_perm
from remediator.engine.models import ActionState, RemediationAction
from remediator.engine.services.requesters import actions_requesters

FINDINGS_PER_ACTION = 8
PAGE_SIZE = 20


def _covered(action_ids: list[int]) -> tuple[dict[int, list[Finding]], dict[int, int]]:
    """The worst findings of each action on the page: one query for the page."""
    through = RemediationAction.findings.through
    links = (
        through.objects.filter(remediationaction_id__in=action_ids)
        .select_related("finding")
        .only(
            "remediationaction_id",
            "finding__id",
            "finding__vulnerability_id",
            "finding__severity",
            "finding__severity_rank",
            "finding__package",
            "finding__fixed_version",
        )
        .order_by("remediationaction_id", "-finding__severity_rank", "-finding_id")
    )
    covered: dict[int, list[Finding]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for link in links.iterator(chunk_size=2000):
        counts[link.remediationaction_id] += 1
        if len(covered[link.remediationaction_id]) < FINDINGS_PER_ACTION:
            covered[link.remediationaction_id].append(link.finding)
    return covered, counts


@require_perm(permissions.VIEW_ACTION)
def approval_queue(request: HttpRequest) -> HttpResponse:
    queryset = RemediationAction.objects.filter(state=ActionState.AWAITING_APPROVAL).select_related(
        "repository", "tag", "image", "policy", "requested_by", "build_target"
    )
    page = keyset_page(request, queryset, keys=("id",), size=PAGE_SIZE)
    covered, counts = _covered([a.pk for a in page.rows])
    requesters = actions_requesters(page.rows)  # four eyes: one query for the page
    rows = [
        {
            "action": action,
            "findings": covered.get(action.pk, []),
            "total": counts.get(action.pk, 0),
            "buttons": approval_buttons(action, request.user, requesters[action.pk]),
        }
        for action in page.rows
    ]
    return render(request, "remediator/approval_queue.html", {"page": page, "rows": rows})
