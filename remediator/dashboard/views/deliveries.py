"""Deliveries: what scanners sent, with the error and raw body of rejected ones."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from findings.filters import DeliveryFilter
from findings.models import Delivery
from findings.selectors.deliveries import deliveries_listed
from remediator.core import permissions
from remediator.dashboard.common import keyset_page, list_filter, require_perm, sort_headers
from remediator.intake.recognise import delivery_credential

BODY_CAP = 64 * 1024
SORT_COLUMNS = {"number": "newest", "source": "source", "status": "status"}


@require_perm(permissions.VIEW_DELIVERY)
def delivery_list(request: HttpRequest) -> HttpResponse:
    filterset, queryset = list_filter(request, DeliveryFilter, deliveries_listed())
    queryset, keys = filterset.ordered(queryset, default="newest")
    page = keyset_page(request, queryset, keys=keys)
    sorts = sort_headers(request, filterset, SORT_COLUMNS, default="newest")
    context = {"filter": filterset, "page": page, "sorts": sorts}
    return render(request, "findings/delivery_list.html", context)


def body_preview(delivery: Delivery, cap: int = BODY_CAP) -> tuple[str, bool]:
    """The first ``cap`` bytes of the raw body as text (escaped by the template)."""
    head = delivery.body_head(cap + 1)
    return head[:cap].decode("utf-8", errors="replace"), len(head) > cap


@require_perm(permissions.VIEW_DELIVERY)
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Metadata and error for the Viewer role; the raw body for staff only (as the API)."""
    show_body = request.user.is_staff
    queryset = Delivery.objects.prefetch_related("scans")
    delivery = get_object_or_404(queryset if show_body else queryset.defer("body_gz"), pk=pk)
    body, truncated = body_preview(delivery) if show_body else ("", False)
    context = {
        "delivery": delivery,
        "body": body,
        "truncated": truncated,
        "cap": BODY_CAP,
        "show_body": show_body,
        "credential": delivery_credential(delivery),
    }
    return render(request, "findings/delivery_detail.html", context)
