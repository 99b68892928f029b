"""Policies: the rules in the order they apply, and a dry run over today's open findings."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from findings.views.common import require_perm
from remediator.models import Policy


@require_perm("remediator.view_policy")
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = Policy.objects.select_related("build_target", "owner").order_by("order", "id")
    dry_run = None
    if request.GET.get("dry_run"):
        from remediator.services import policy_dry_run

        dry_run = policy_dry_run()
    return render(
        request,
        "remediator/policy_list.html",
        {"policies": policies, "dry_run": dry_run},
    )
