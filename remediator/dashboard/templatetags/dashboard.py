"""Badges for the dashboard: cheaper than an {% include %} per table cell."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from findings.selectors.threat_intel import feeds_status, intel_of

register = template.Library()


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
