"""Teams and their ownership rules in the admin. Saving or deleting either works out
every repository's owner again once the change commits (``owners_refresh_soon``)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from remediator.teams.models import OwnershipRule, Team, TeamMembership

from .ownership_refresh import owners_refresh_soon


class OwnershipRuleInline(admin.TabularInline):
    model = OwnershipRule
    extra = 0
    fields = ["order", "image_glob", "namespace_glob", "label_key", "label_value", "repositories"]


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    fields = ["user", "source"]
    autocomplete_fields = ["user"]


class OwnersFollow:
    """Ownership is worked out again after a save or a delete (rules are in inlines too:
    ``save_related`` runs after them)."""

    def save_related(self, request: HttpRequest, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        owners_refresh_soon()

    def delete_model(self, request: HttpRequest, obj) -> None:
        super().delete_model(request, obj)
        owners_refresh_soon()

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        super().delete_queryset(request, queryset)
        owners_refresh_soon()


@admin.register(Team)
class TeamAdmin(OwnersFollow, admin.ModelAdmin):
    list_display = ["name", "slug", "sla_policy", "slack_webhook_env"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OwnershipRuleInline, TeamMembershipInline]


@admin.register(OwnershipRule)
class OwnershipRuleAdmin(OwnersFollow, admin.ModelAdmin):
    list_display = [
        "order", "team", "image_glob", "namespace_glob", "label_key", "label_value",
    ]  # fmt: skip
    list_filter = ["team"]
    ordering = ["order", "id"]
