"""The search box: CVE, package, image (registry/repository:tag), digest or free text,
its hits grouped by kind with links; exact identifiers first. Each kind is one
bounded read (``findings.selectors.search``, ``remediator.engine.selectors``)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from findings.selectors.search import MAX_QUERY, PER_KIND, search_findings_store
from remediator.core import permissions
from remediator.core.storable import is_storable_text
from remediator.dashboard.common import require_perm
from remediator.engine.selectors import actions_matching


class SearchForm(forms.Form):
    q = forms.CharField(max_length=MAX_QUERY, required=False)

    def clean_q(self) -> str:
        text = self.cleaned_data["q"].strip()
        if not is_storable_text(text):
            raise forms.ValidationError("the text holds characters that cannot be searched")
        return text


@require_perm(permissions.VIEW_FINDING, permissions.VIEW_REPOSITORY)
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    groups: dict[str, list] = {}
    actions: list = []
    if text:
        groups = search_findings_store(text, limit=PER_KIND, user=request.user)
        if request.user.has_perm(permissions.VIEW_ACTION):
            actions = actions_matching(text, limit=PER_KIND, user=request.user)
    total = sum(len(hits) for hits in groups.values()) + len(actions)
    context = {"form": form, "q": text, "groups": groups, "actions": actions, "total": total}
    return render(request, "search.html", context, status=200 if form.is_valid() else 400)
