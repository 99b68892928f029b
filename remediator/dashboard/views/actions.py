"""Actions: list by state, detail with timeline and Dockerfile patch, and the
POST-only views behind every button (approve, reject, cancel, retry, rebuild)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from findings.models import Tag
from findings.selectors.scope import visible
from remediator.core import permissions
from remediator.core.storable import is_storable_text
from remediator.dashboard.buttons import action_buttons, may_operate
from remediator.dashboard.common import keyset_page, list_filter, require_perm, sort_headers
from remediator.dashboard.readiness import setup_fix_url, with_readiness
from remediator.engine.filters import TAB_STATES, TABS, ActionFilter
from remediator.engine.models import ActionKind, FixPullRequest, RemediationAction
from remediator.engine.selectors import (
    action_events,
    action_findings,
    actions_by_state,
    actions_detailed,
    actions_listed,
)
from remediator.engine.services import (
    GATES,
    ActionNotAllowed,
    action_gate,
    action_request_pull_request,
    action_request_rebuild,
)

from .dockerfile_diff import dockerfile_patch

FINDINGS_SHOWN = 200
SORT_COLUMNS = {"number": "newest", "kind": "kind", "state": "state"}


def _tab_count(counts: dict[str, int], tab: str) -> int:
    """How many actions a tab holds (all of them for the first)."""
    states = TAB_STATES.get(tab)
    return sum(n for state, n in counts.items() if states is None or state in states)


@require_perm(permissions.VIEW_ACTION)
def action_list(request: HttpRequest) -> HttpResponse:
    filterset, queryset = list_filter(request, ActionFilter, actions_listed())
    queryset, keys = filterset.ordered(queryset, default="newest")
    page = keyset_page(request, queryset, keys=keys)
    with_readiness(page.rows)
    counts = actions_by_state(request.user)
    tabs = [(value, label, _tab_count(counts, value)) for value, label in TABS]
    context = {
        "filter": filterset,
        "page": page,
        "tabs": tabs,
        "tab": filterset.value("tab", ""),
        "sorts": sort_headers(request, filterset, SORT_COLUMNS, default="newest"),
    }
    return render(request, "remediator/action_list.html", context)


@require_perm(permissions.VIEW_ACTION)
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    action = get_object_or_404(visible(actions_detailed(), request.user), pk=pk)
    findings = action_findings(action, limit=FINDINGS_SHOWN + 1)
    readiness = with_readiness([action]).get(action.pk)
    return render(
        request,
        "remediator/action_detail.html",
        {
            "action": action,
            "findings": findings[:FINDINGS_SHOWN],
            "more_findings": len(findings) > FINDINGS_SHOWN,
            "events": action_events(action),
            "approvals": action.approvals.select_related("user").order_by("id"),
            "buttons": action_buttons(action, request.user, readiness, setup_fix_url()),
            "patch": dockerfile_patch(action),
            "pull_request": FixPullRequest.objects.filter(action=action).first(),
            "may_request": request.user.has_perm(permissions.REQUEST_ACTION),
        },
    )


def _back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return HttpResponseRedirect(target)


def _run(request: HttpRequest, call, success) -> object | None:
    """Call the service; a message says what happened (``success``: text, or a function
    of the result). The result, or None when refused."""
    try:
        result = call()
    except ActionNotAllowed as exc:
        messages.error(request, f"Not done: {exc}")
        return None
    messages.success(request, success(result) if callable(success) else success)
    return result


DONE = {
    "approve": "Action #{pk} approved; {next}.",
    "reject": "Action #{pk} rejected.",
    "cancel": "Action #{pk} cancelled.",
    "retry": "Action #{pk} will be retried.",
}
"""What each gate's button says when it worked."""
APPROVED_NEXT = {
    ActionKind.REBUILD: "the rebuild is being dispatched",
    ActionKind.PULL_REQUEST: "the pull request is being opened",
}


@require_POST
@require_perm(permissions.VIEW_ACTION)
def action_operate(request: HttpRequest, pk: int, op: str) -> HttpResponse:
    """One POST per button. The permission is checked here and again in the service."""
    actions = RemediationAction.objects.only("id", "kind", "requested_by_id", "repository_id")
    action = get_object_or_404(visible(actions, request.user), pk=pk)
    if op not in GATES or not may_operate(action, request.user, op):
        raise PermissionDenied
    reason = request.POST.get("reason", "").strip()
    default = reverse("action-detail", args=[pk])
    if not is_storable_text(reason):
        messages.error(request, "Not done: the reason holds a NUL character.")
        return _back(request, default)
    if op == "reject" and not reason:
        messages.error(request, "Not done: a reason is required to reject.")
        return _back(request, default)
    _run(
        request,
        lambda: action_gate(gate=op, action_id=pk, user=request.user, reason=reason),
        DONE[op].format(pk=pk, next=APPROVED_NEXT.get(action.kind, "it is being carried out")),
    )
    return _back(request, default)


def _tag_request(request: HttpRequest, tag_id: int, service, done) -> HttpResponse:
    if not request.user.has_perm(permissions.REQUEST_ACTION):
        raise PermissionDenied
    tag = get_object_or_404(
        visible(Tag.objects.select_related("repository"), request.user), pk=tag_id
    )
    reason = request.POST.get("reason", "").strip()
    default = reverse("image-detail", args=[tag.repository_id])
    if not is_storable_text(reason):
        messages.error(request, "Not done: the reason holds a NUL character.")
        return _back(request, default)
    _run(request, lambda: service(tag=tag, user=request.user, reason=reason), done(tag))
    return _back(request, default)


@require_POST
@require_perm(permissions.VIEW_REPOSITORY)
def tag_request_rebuild(request: HttpRequest, tag_id: int) -> HttpResponse:
    return _tag_request(
        request,
        tag_id,
        action_request_rebuild,
        lambda tag: f"Rebuild of {tag} requested; it now waits for another approver.",
    )


def _pull_request_done(tag: Tag):
    """The message of a fix pull request requested: a link to its action, and the rebuild
    whose findings it took over."""

    def say(action: RemediationAction) -> str:
        link = format_html(
            '<a href="{}">fix pull request #{}</a>',
            reverse("action-detail", args=[action.pk]),
            action.pk,
        )
        text = format_html("Pull request for {} requested as {}", tag, link)
        took_over = getattr(action, "took_over", None)
        if took_over:
            rebuild, moved = took_over
            text = format_html(
                "{}; it took over {} finding(s) from rebuild #{}", text, moved, rebuild
            )
        return format_html("{}. It now waits for another approver.", text)

    return say


@require_POST
@require_perm(permissions.VIEW_REPOSITORY)
def tag_request_pull_request(request: HttpRequest, tag_id: int) -> HttpResponse:
    """The "Open fix PR" button beside the Dockerfile patch."""
    return _tag_request(request, tag_id, action_request_pull_request, _pull_request_done)
