"""The audit log: every transition and outside call, filterable, keyset paginated."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from remediator.core import permissions
from remediator.dashboard.common import keyset_page, require_perm
from remediator.engine.models import AuditEvent


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, help_text="User name or label")
    object = forms.CharField(
        required=False,
        max_length=120,
        help_text='e.g. "remediationaction" or "remediationaction:12"',
    )
    kind = forms.ChoiceField(choices=[("", "Any"), *AuditEvent.Kind.choices], required=False)


@require_perm(permissions.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    queryset = AuditEvent.objects.select_related("actor", "action")
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["actor"]:
            actor = data["actor"].strip()
            queryset = queryset.filter(actor_label=actor)
        if data["object"]:
            object_type, _, object_id = data["object"].strip().partition(":")
            queryset = queryset.filter(object_type=object_type.strip().lower())
            if object_id.strip():
                queryset = queryset.filter(object_id=object_id.strip())
    page = keyset_page(request, queryset, keys=("-id",))
    return render(request, "remediator/audit_list.html", {"form": form, "page": page})
