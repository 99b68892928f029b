"""The findings list's bulk bar: the checked rows and one decision about them, carried
out by ``remediator.engine.services.bulk`` (the API's ``findings/bulk/`` does the same);
a message says how many were done and why the others were not."""

from __future__ import annotations

from collections import Counter

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from remediator.core import permissions
from remediator.core.storable import BIGINT_MAX
from remediator.dashboard.common import require_perm
from remediator.engine.services import ActionNotAllowed
from remediator.engine.services.bulk import BULK_MAX, OPERATIONS, findings_decide_bulk

from .decisions import DecisionForm

PROBLEMS_SHOWN = 5


class BulkForm(DecisionForm):
    operation = forms.ChoiceField(choices=[(k, label) for k, (label, _) in OPERATIONS.items()])
    finding = forms.TypedMultipleChoiceField(coerce=int, required=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["finding"].valid_value = _is_id  # any id; the service says which exist

    def clean_finding(self) -> list[int]:
        ids = self.cleaned_data["finding"]
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(f"at most {BULK_MAX} findings at once")
        return ids


def _is_id(value: object) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and 1 <= int(text) <= BIGINT_MAX


def _back(request: HttpRequest) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("finding-list")
    return HttpResponseRedirect(target)


@require_POST
@require_perm(permissions.VIEW_FINDING)
def findings_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        messages.error(request, f"Not done: {problems.replace('finding:', 'findings:')}")
        return _back(request)
    operation = form.cleaned_data["operation"]
    try:
        results = findings_decide_bulk(
            operation=operation,
            finding_ids=form.cleaned_data["finding"],
            user=request.user,
            reason=form.cleaned_data["reason"].strip(),
            until=form.until_moment(),
        )
    except ActionNotAllowed as exc:
        messages.error(request, f"Not done: {exc}")
        return _back(request)
    label = OPERATIONS[operation][0]
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    actions = sorted({r.action_id for r in done if r.action_id})
    if done:
        text = f"{label}: {len(done)} finding{'s' if len(done) != 1 else ''} done"
        if actions:
            text += " (action " + ", ".join(f"#{a}" for a in actions) + ")"
        messages.success(request, text + ".")
    if failed:
        reasons = Counter(r.message for r in failed).most_common(PROBLEMS_SHOWN)
        why = "; ".join(f"{n}: {message}" for message, n in reasons)
        messages.error(request, f"{len(failed)} not done: {why}")
    return _back(request)
