"""Badges for the dashboard: cheaper than an {% include %} per table cell."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from findings.deadline import deadline_of
from findings.selectors.threat_intel import feeds_status, intel_of

register = template.Library()
EXEMPT_TITLE = "An accepted risk: no deadline while accepted (the SLA policy exempts it)"


@register.filter
def sev(severity: str) -> SafeString:
    """Severity as a letter mark + word: readable without colour."""
    severity = str(severity or "unknown")
    return format_html(
        '<span class="sev sev-{0}" title="Severity: {0}"><span class="sev-mark" '
        'aria-hidden="true">{1}</span>{2}</span>',
        severity,
        severity[:1].upper(),
        severity.capitalize(),
    )


@register.simple_tag
def state(value: str, label: str = "") -> SafeString:
    return format_html('<span class="state st-{}">{}</span>', value, label or value)


@register.filter
def intel(vulnerability: object) -> object | None:
    """``{% with i=f.vulnerability|intel %}``: its EPSS/KEV row, or None."""
    return intel_of(vulnerability)


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """0.97565 -> "97.6%"; None -> "—"."""
    return "—" if value is None else f"{value * 100:.{digits}f}%"


@register.inclusion_tag("partials/intel_status.html")
def intel_status() -> dict:
    """How fresh the EPSS and KEV data are (the snapshot in place, when it was imported)
    and the last import refused, where findings show that data."""
    return {"feeds": feeds_status()}


_SEPARATORS = re.compile(r"(?<=[/:@])")


@register.simple_tag
def image_ref(repository: object, tag: str = "", digest: str = "") -> SafeString:
    """An image as ``registry/repository:tag`` (the registry always shown), broken across
    lines only after ``/``, ``:`` or ``@``: each part is kept whole (``nowrap``) with a
    ``<wbr>`` between, so a tag such as ``1.25-alpine`` never breaks mid-word."""
    text = str(repository)
    if tag:
        text += f":{tag}"
    if digest:
        text += f"@{digest}"
    parts = [part for part in _SEPARATORS.split(text) if part]
    inner = format_html_join(
        mark_safe("<wbr>"), '<span class="seg">{}</span>', ((p,) for p in parts)
    )
    return format_html('<span class="imgref" title="{}">{}</span>', text, inner)


def _days(n: int) -> str:
    return f"{n} day{'' if n == 1 else 's'}"


@register.simple_tag
def due(finding: object, now: datetime) -> SafeString:
    """A finding against its deadline: "due 2026-01-31 (12 days left)", "overdue by
    3 days", "paused since …", "exempt", "fixed in time", "fixed 4 days late", "—"."""
    d = deadline_of(finding, now=now)
    day = f"{d.due_at:%Y-%m-%d}" if d.due_at else ""
    if d.state == "overdue":
        return format_html(
            '<span class="sla sla-overdue">overdue by {}</span> <span class="muted">due {}</span>',
            _days(d.overdue_days),
            day,
        )
    if d.state in ("on_track", "due_soon"):
        return format_html(
            '<span class="sla sla-{}">due {}</span> <span class="muted">({} left)</span>',
            d.state,
            day,
            _days(d.days_left),
        )
    if d.state == "paused":
        return format_html(
            '<span class="sla sla-paused">paused</span> <span class="muted">since {}</span>',
            f"{finding.sla_paused_at:%Y-%m-%d}",
        )
    if d.state == "exempt":
        return format_html('<span class="sla sla-exempt" title="{}">exempt</span>', EXEMPT_TITLE)
    if d.closed_in_time:
        return mark_safe('<span class="sla sla-in-time">fixed in time</span>')
    if d.closed_in_time is False:
        return format_html('<span class="sla sla-late">fixed {} late</span>', _days(d.late_days))
    return mark_safe('<span class="muted">—</span>')


@register.filter
def sla_duration(seconds: int) -> str:
    """Paused seconds in days and hours: 183600 -> "2 days 3 h"."""
    days, rest = divmod(int(seconds or 0), 86400)
    hours = rest // 3600
    return (
        " ".join(p for p in (_days(days) if days else "", f"{hours} h" if hours else "") if p)
        or "under an hour"
    )
