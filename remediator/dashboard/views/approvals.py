"""The approval queue: actions waiting for a person, with what they would fix."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from remediator.core import permissions
from remediator.dashboard.buttons import approval_buttons
from remediator.dashboard.common import keyset_page, list_filter, require_perm
from remediator.dashboard.readiness import setup_fix_url, with_readiness
from remediator.engine.filters import ActionFilter
from remediator.engine.selectors import actions_awaiting, actions_covered, actions_requesters

FINDINGS_PER_ACTION = 8
PAGE_SIZE = 20


@require_perm(permissions.VIEW_ACTION)
def approval_queue(request: HttpRequest) -> HttpResponse:
    filterset, queryset = list_filter(request, ActionFilter, actions_awaiting())
    page = keyset_page(request, queryset, keys=("id",), size=PAGE_SIZE)
    covered, counts = actions_covered([a.pk for a in page.rows], per_action=FINDINGS_PER_ACTION)
    requesters = actions_requesters(page.rows)  # four eyes: one query for the page
    readiness = with_readiness(page.rows)  # which target, what is missing: one query
    fix_url = setup_fix_url()
    rows = [
        {
            "action": action,
            "findings": covered.get(action.pk, []),
            "total": counts.get(action.pk, 0),
            "buttons": approval_buttons(
                action, request.user, requesters[action.pk], readiness[action.pk], fix_url
            ),
        }
        for action in page.rows
    ]
    context = {"page": page, "rows": rows, "filter": filterset}
    return render(request, "remediator/approval_queue.html", context)
