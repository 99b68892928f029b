"""Policies: the rules in the order they apply, and the last dry run over today's open findings;
the admission policies beside them, with what each would deny today.

The dry run itself runs in the worker (remediator.engine.services.dry_run_store); the page
shows the stored result with its time and a button that queues a fresh one.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.validators import MaxValueValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from remediator.core import permissions
from remediator.dashboard.common import require_perm
from remediator.engine.models import Policy
from remediator.engine.services.backtest import MAX_DAYS
from remediator.engine.services.backtest_guard import BacktestBusy, policy_backtest_guarded
from remediator.engine.services.dry_run_store import policy_dry_run_enqueue, policy_dry_run_read

from .admission_in_view import admission_section


class BacktestForm(forms.Form):
    """``?days=30&policy=``: replay the last N days against one policy, or all enabled ones."""

    days = forms.IntegerField(min_value=1, max_value=MAX_DAYS, initial=30, label="Last N days")
    policy = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Policy")

    def __init__(self, data, policies, *args, **kwargs) -> None:
        super().__init__(data, *args, **kwargs)
        days = self.fields["days"]  # the window is bounded by a setting, read per request
        days.max_value = settings.BACKTEST_MAX_DAYS
        days.validators = [
            *(v for v in days.validators if not isinstance(v, MaxValueValidator)),
            MaxValueValidator(settings.BACKTEST_MAX_DAYS),
        ]
        days.widget.attrs["max"] = settings.BACKTEST_MAX_DAYS
        self.fields["policy"].choices = [("", "Every enabled policy")] + [
            (p.pk, p.name) for p in policies
        ]


@require_perm(permissions.VIEW_POLICY)
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = Policy.objects.select_related("build_target", "owner").order_by("order", "id")
    state = policy_dry_run_read()
    form = BacktestForm(request.GET if "days" in request.GET else None, policies)
    backtest, status = None, 200
    if form.is_bound and form.is_valid():
        chosen = form.cleaned_data["policy"]
        try:
            backtest = policy_backtest_guarded(
                user_key=str(request.user.pk),
                days=form.cleaned_data["days"],
                policy_ids=None if chosen is None else [chosen],
            )
        except BacktestBusy as exc:
            messages.warning(request, f"Backtest not run: {exc}.")
            status = 429
    return render(
        request,
        "remediator/policy_list.html",
        {
            "policies": policies,
            "dry_run": state.stored.results if state.stored else None,
            "dry_run_stored": state.stored,
            "dry_run_stale": state.stale,
            "dry_run_queued": state.queued,
            "backtest_form": form,
            "backtest": backtest,
            "admission": admission_section(request),
        },
        status=status,
    )


@require_POST
@require_perm(permissions.VIEW_POLICY)
def policy_dry_run_request(request: HttpRequest) -> HttpResponse:
    if policy_dry_run_enqueue():
        messages.success(request, "Dry run queued; refresh in a few seconds.")
    else:
        messages.info(request, "A dry run is already queued; refresh in a few seconds.")
    return redirect("policy-list")
