"""Deliveries: what scanners sent, with the error and raw body of rejected ones."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from findings.models import Delivery, Source
from remediator.core import permissions
from remediator.dashboard.common import keyset_page, require_perm
from remediator.intake.recognise import delivery_credential

BODY_CAP = 64 * 1024


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any"), *Delivery.Status.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any"), *Source.choices], required=False)


@require_perm(permissions.VIEW_DELIVERY)
def delivery_list(request: HttpRequest) -> HttpResponse:
    form = DeliveryFilterForm(request.GET)
    queryset = Delivery.objects.defer("body_gz", "headers").prefetch_related("scans")
    if form.is_valid():
        if form.cleaned_data["status"]:
            queryset = queryset.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["source"]:
            queryset = queryset.filter(source=form.cleaned_data["source"])
    page = keyset_page(request, queryset, keys=("-id",))
    return render(request, "findings/delivery_list.html", {"form": form, "page": page})


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
