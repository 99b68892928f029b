"""Deliveries: what scanners sent, the scans each resulted in, the error of rejected
ones; the raw body for staff; Reprocess for those who may change deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from findings.filters import DeliveryFilter
from findings.models import Delivery
from findings.selectors.deliveries import deliveries_listed, scans_of_delivery
from findings.vex.selectors import delivery_vex_import
from remediator.core import permissions
from remediator.dashboard.buttons import Button
from remediator.dashboard.common import keyset_page, list_filter, require_perm, sort_headers
from remediator.engine.services import ActionNotAllowed
from remediator.engine.services.delivery_reprocess import delivery_reprocess_by
from remediator.intake.queue import DeliveryBusy
from remediator.intake.recognise import delivery_credential

BODY_CAP = 64 * 1024
SORT_COLUMNS = {"number": "newest", "source": "source", "status": "status"}
NOT_ALLOWED = "Reprocessing needs the permission to change deliveries (administrators)."
QUEUED = "It is queued already: wait until it is processed or rejected."


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


def reprocess_button(delivery: Delivery, user) -> Button:
    """Reprocess: disabled, with the reason, for those who may not or while queued."""
    may = user.has_perm(permissions.CHANGE_DELIVERY)
    queued = delivery.status == Delivery.Status.QUEUED
    why = NOT_ALLOWED if not may else QUEUED if queued else ""
    url = reverse("delivery-reprocess", args=[delivery.pk])
    return Button("reprocess", "Reprocess", not why, why, url=url, target=f"delivery-{delivery.pk}")


@require_perm(permissions.VIEW_DELIVERY)
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Metadata, error and scans for every reader; the raw body for staff only (as the API)."""
    show_body = request.user.is_staff
    queryset = Delivery.objects.prefetch_related(scans_of_delivery())
    delivery = get_object_or_404(queryset if show_body else queryset.defer("body_gz"), pk=pk)
    body, truncated = body_preview(delivery) if show_body else ("", False)
    context = {
        "delivery": delivery,
        "body": body,
        "truncated": truncated,
        "cap": BODY_CAP,
        "show_body": show_body,
        "credential": delivery_credential(delivery),
        "buttons": [reprocess_button(delivery, request.user)],
        "vex_import": delivery_vex_import(delivery.pk),
    }
    return render(request, "findings/delivery_detail.html", context)


@require_POST
@require_perm(permissions.VIEW_DELIVERY, permissions.CHANGE_DELIVERY)
def delivery_reprocess(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(Delivery.objects.only("id"), pk=pk)
    try:
        delivery_reprocess_by(delivery_id=pk, user=request.user)
    except (ActionNotAllowed, DeliveryBusy) as exc:
        messages.error(request, f"Not reprocessed: {exc}")
    else:
        messages.success(request, f"Delivery #{pk} queued to be processed again.")
    return HttpResponseRedirect(reverse("delivery-detail", args=[pk]))
