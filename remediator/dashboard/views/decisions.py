"""A finding's risk decisions on its page: accept the risk (optionally until a date),
dismiss as a false positive (not affected, with an OpenVEX justification chosen from the
standard list), put under investigation or stop, reopen. Plain POST forms; the
permission is checked here and again by the services in remediator.engine.services.risk,
whose refusals become messages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.validators import MaxValueValidator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from findings.justifications import JUSTIFICATION_CHOICES
from findings.models import Finding
from findings.selectors.scope import visible
from findings.status import DECIDED
from remediator.core import permissions
from remediator.dashboard.buttons import Button
from remediator.dashboard.common import require_perm
from remediator.engine.services import ActionNotAllowed
from remediator.engine.services.risk import (
    finding_accept_risk,
    finding_investigate_start,
    finding_investigate_stop,
    finding_mark_false_positive,
)
from remediator.engine.services.risk import finding_reopen as finding_reopen_service

NOT_ALLOWED = "Security approvers decide about findings."


class DecisionForm(forms.Form):
    """The reason is checked by the service (its message is the one shown)."""

    reason = forms.CharField(required=False, max_length=2000)
    until = forms.DateField(
        required=False,
        validators=[MaxValueValidator(date(9998, 12, 31))],  # stays in range in any time zone
    )
    justification = forms.ChoiceField(
        required=False,
        choices=[("", "No justification (the reason says why)"), *JUSTIFICATION_CHOICES],
    )

    def until_moment(self) -> datetime | None:
        """The acceptance ends at the start of the chosen day, in the site's time zone."""
        day = self.cleaned_data.get("until")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day, time.min))


def decision_buttons(finding: Finding, user) -> list[Button]:
    """The forms a finding's status allows; disabled, with the reason, for viewers."""
    may = user.has_perm(permissions.APPROVE_ACTION)
    why = "" if may else NOT_ALLOWED
    target = f"finding-{finding.pk}"

    def button(op: str, label: str, style: str, **more) -> Button:
        url = reverse(f"finding-{op}", args=[finding.pk])
        return Button(op, label, may, why, style=style, url=url, target=target, **more)

    if finding.status == Finding.Status.OPEN:
        investigation = (
            button("stop-investigating", "Stop investigating", "secondary")
            if finding.investigating_since
            else button("investigate", "Investigate", "secondary", needs_reason=True)
        )
        return [
            button("accept", "Accept risk", "primary", needs_reason=True, needs_until=True),
            button(
                "false-positive",
                "Not affected / false positive",
                "secondary",
                needs_reason=True,
                needs_justification=True,
            ),
            investigation,
        ]
    if finding.status in DECIDED:
        return [button("reopen", "Reopen", "secondary")]
    return []


def tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


def _back(request: HttpRequest, pk: int) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("finding-detail", args=[pk])
    return HttpResponseRedirect(target)


def _decide(request: HttpRequest, pk: int, call, success: str) -> HttpResponse:
    get_object_or_404(visible(Finding.objects.only("id"), request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(e for errors in form.errors.values() for e in errors)
        messages.error(request, f"Not done: {problems}")
        return _back(request, pk)
    try:
        call(form.cleaned_data["reason"].strip(), form)
    except ActionNotAllowed as exc:
        messages.error(request, f"Not done: {exc}")
    else:
        messages.success(request, success)
    return _back(request, pk)


@require_POST
@require_perm(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)
def finding_accept(request: HttpRequest, pk: int) -> HttpResponse:
    def call(reason: str, form: DecisionForm) -> None:
        finding_accept_risk(
            finding_id=pk, user=request.user, reason=reason, until=form.until_moment()
        )

    return _decide(request, pk, call, f"Finding #{pk}: risk accepted.")


@require_POST
@require_perm(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)
def finding_false_positive(request: HttpRequest, pk: int) -> HttpResponse:
    def call(reason: str, form: DecisionForm) -> None:
        finding_mark_false_positive(
            finding_id=pk,
            user=request.user,
            reason=reason,
            justification=form.cleaned_data["justification"],
        )

    return _decide(request, pk, call, f"Finding #{pk} marked not affected (false positive).")


@require_POST
@require_perm(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)
def finding_investigate(request: HttpRequest, pk: int) -> HttpResponse:
    def call(reason: str, form: DecisionForm) -> None:
        finding_investigate_start(finding_id=pk, user=request.user, reason=reason)

    return _decide(request, pk, call, f"Finding #{pk} is under investigation.")


@require_POST
@require_perm(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)
def finding_stop_investigating(request: HttpRequest, pk: int) -> HttpResponse:
    def call(reason: str, form: DecisionForm) -> None:
        finding_investigate_stop(finding_id=pk, user=request.user, reason=reason)

    return _decide(request, pk, call, f"Finding #{pk}: investigation stopped.")


@require_POST
@require_perm(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)
def finding_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def call(reason: str, form: DecisionForm) -> None:
        finding_reopen_service(finding_id=pk, user=request.user, reason=reason)

    return _decide(request, pk, call, f"Finding #{pk} reopened.")
