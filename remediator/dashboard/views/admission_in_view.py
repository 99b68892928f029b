"""The Policies page's admission section: each admission policy with what it would deny
today (``engine.admission.in_view``), and the form choosing how many days of reviews."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest

from remediator.engine.admission.in_view import (
    DEFAULT_DAYS,
    MAX_DAYS,
    admission_in_view_cached,
)

DAYS = "admission_days"
"""The page's query parameter (``days`` is the remediation backtest's)."""
CHANGE = "remediator.change_admissionpolicy"
ADD = "remediator.add_admissionpolicy"


class AdmissionDaysForm(forms.Form):
    admission_days = forms.IntegerField(
        min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS, label="Reviews of the last N days"
    )


def admission_section(request: HttpRequest) -> dict:
    """The template's ``admission`` context: the form (a value that is not a number of
    days shows its error, and the default window is used), the view, and whether this
    user may edit admission policies (the admin is for staff)."""
    form = AdmissionDaysForm(request.GET if DAYS in request.GET else {DAYS: DEFAULT_DAYS})
    days = form.cleaned_data[DAYS] if form.is_valid() else DEFAULT_DAYS
    view = admission_in_view_cached(days=days)
    staff = request.user.is_staff
    return {
        "form": form,
        "view": view,
        "can_change": staff and request.user.has_perm(CHANGE),
        "can_add": staff and request.user.has_perm(ADD),
    }
