"""The inventory's admin page, listed under Findings: the app its model belongs to."""

from __future__ import annotations

from django.contrib import admin

from findings.admin import FastAdmin
from findings.models import RunningImage


@admin.register(RunningImage)
class RunningImageAdmin(FastAdmin):
    """The inventory: read here, written by admission reviews, reports and pushes."""

    list_display = ["cluster", "namespace", "kind", "name", "container", "image_ref"]
    list_display += ["digest", "source", "last_seen"]
    list_filter = ["source", "cluster", "kind"]
    search_fields = ["namespace", "name", "image_ref", "digest"]
    raw_id_fields = ["repository", "image"]
