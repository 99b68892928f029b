"""Findings ranked and filtered by exploit intelligence (joined through the vulnerability),
and what is known of the feeds.

The ranks are whole numbers so that keyset pagination can carry them in a cursor:

- ``epss_rank``: the EPSS score in 1/100,000 (FIRST publishes five decimals); -1 unknown.
- ``risk_rank``: KEV first, then EPSS, then severity:
  ``kev * 10**8 + (epss_rank + 1) * 10 + severity_rank``.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Coalesce, Round

from findings.models import ThreatIntelFeed

KEV = "vulnerability__intel__kev"
EPSS = "vulnerability__intel__epss_score"
EPSS_SCALE = 100_000


def kev_q(listed: bool) -> Q:
    """In CISA's KEV catalogue (``True``) or not (``False``, also: nothing known)."""
    return Q(**{KEV: True}) if listed else ~Q(**{KEV: True})


def epss_at_least(score: float) -> Q:
    return Q(**{f"{EPSS}__gte": score})


def epss_rank() -> Cast:
    return Cast(Round(Coalesce(F(EPSS), Value(-1.0 / EPSS_SCALE)) * EPSS_SCALE), IntegerField())


def with_risk(queryset: QuerySet) -> QuerySet:
    """``queryset`` of findings with ``epss_rank`` and ``risk_rank`` annotated."""
    kev = Case(When(**{KEV: True}, then=Value(1)), default=Value(0), output_field=IntegerField())
    return queryset.annotate(epss_rank=epss_rank()).annotate(
        risk_rank=kev * 10**8 + (F("epss_rank") + 1) * 10 + F("severity_rank")
    )


def feeds_status() -> list[object]:
    """Each feed's ThreatIntelFeed row (EPSS, then KEV): the snapshot in place, when it was
    imported, the last refusal. A feed never imported nor refused has no row."""
    return list(ThreatIntelFeed.objects.order_by("feed"))


def intel_of(vulnerability: object) -> object | None:
    """The vulnerability's ThreatIntel row, or None (no query when it was select_related)."""
    try:
        return vulnerability.intel  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, AttributeError):
        return None
