"""The parameters of the remediation report, one form for the Reports page and the API:
``team`` (a team's slug, or ``unowned``), ``severity``, ``since`` and ``until`` (ISO 8601
dates or times; the window defaults to the last 90 days up to now)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from django import forms

from remediator.core.severity import SEVERITIES

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)
MAX_WINDOW_DAYS = 3 * 366
"""The longest window one request may ask for."""


class RemediationReportForm(forms.Form):
    team = forms.SlugField(required=False, max_length=100)
    severity = forms.ChoiceField(required=False, choices=[("", "")] + [(s, s) for s in SEVERITIES])
    since = forms.DateTimeField(required=False)
    until = forms.DateTimeField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since >= until:
                raise forms.ValidationError("since must be before until")
            if (until - since).days > MAX_WINDOW_DAYS:
                raise forms.ValidationError(f"the window is at most {MAX_WINDOW_DAYS} days")
        return data


def report_window_only(query: Mapping[str, str]) -> bool:
    """True when every value is well-formed and only the window they make is refused
    (since not before until, or too long): the API answers that 422, a malformed value 400."""
    form = RemediationReportForm(
        {k: query.get(k, "") for k in ("team", "severity", "since", "until")}
    )
    return not form.is_valid() and set(form.errors) == {"__all__"}


def report_params(query: Mapping[str, str]) -> tuple[dict, str]:
    """The report's keyword arguments from a query string, and "" (or what is wrong)."""
    form = RemediationReportForm(
        {k: query.get(k, "") for k in ("team", "severity", "since", "until")}
    )
    if not form.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" if name != "__all__" else " ".join(errors)
            for name, errors in form.errors.items()
        )
        return {}, problems
    data = form.cleaned_data
    return {
        "team": data["team"] or "",
        "severity": data["severity"] or "",
        "since": _in_range(data["since"]),
        "until": _in_range(data["until"]),
    }, ""


def _in_range(moment: datetime | None) -> datetime | None:
    """In UTC (an offset such as +18:15 is valid ISO 8601 but past what PostgreSQL takes)
    and within 1900 to 9998, where every date the product stores lies."""
    if moment is None:
        return None
    return min(max(moment.astimezone(UTC), EARLIEST), LATEST)
