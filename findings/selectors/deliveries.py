"""Named reads of deliveries (received bodies), without their bodies unless asked."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from findings.models import Delivery, Scan

FIRST_SCAN = Subquery(Scan.objects.filter(delivery=OuterRef("pk"), part=0).values("pk")[:1])
"""A delivery's first scan (``scan_pk``): a report of several images makes several."""


def scans_of_delivery() -> Prefetch:
    """A delivery's scans in image order, each with its image and tag (for links)."""
    scans = Scan.objects.select_related("image", "tag__repository").order_by("part")
    return Prefetch("scans", queryset=scans)


def deliveries_listed() -> QuerySet[Delivery]:
    """Deliveries without body or headers, each with its scans (the page's list)."""
    return Delivery.objects.defer("body_gz", "headers").prefetch_related(scans_of_delivery())


def deliveries_with_scan(*, body: bool = False) -> QuerySet[Delivery]:
    """Deliveries with their first scan's id (``scan_pk``); the raw body only if ``body``."""
    queryset = Delivery.objects.annotate(scan_pk=FIRST_SCAN)
    return queryset if body else queryset.defer("body_gz")


def recent_deliveries(*, limit: int = 10) -> QuerySet[Delivery]:
    return Delivery.objects.defer("body_gz", "headers").order_by("-id")[:limit]
