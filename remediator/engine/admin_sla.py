"""Admin of SLA policies: presets show what their source says; custom ones set days.

Saving one audits the change; its findings' deadlines follow by themselves
(``receivers.sla_policy_saved``).
"""

from __future__ import annotations

from django.contrib import admin

from remediator.teams.deadlines import PRESETS
from remediator.teams.models import SlaPolicy

from .audit import audit_record


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "preset", "source", "clock", "kev_caps", "accepted", "is_default"]
    list_filter = ["preset", "accepted", "is_default"]
    search_fields = ["name", "description"]
    readonly_fields = ["source", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "description", "is_default"]}),
        ("Preset", {"fields": ["preset", "source"]}),
        (
            "Custom days (when no preset)",
            {"fields": ["critical_days", "high_days", "medium_days", "low_days", "clock"]},
        ),
        ("Caps and acceptance", {"fields": ["kev_caps", "accepted", "updated_at"]}),
    ]

    @admin.display(description="source")
    def source(self, obj: SlaPolicy) -> str:
        """The preset's source, as ``remediator/teams/deadlines.py`` quotes it."""
        preset = PRESETS.get(obj.preset)
        return f"{preset.title}: {preset.source}" if preset else "custom days"

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        verb = "changed" if change else "created"
        audit_record(kind="config", actor=request.user, obj=obj, message=f"{verb} SLA policy {obj}")

    def delete_model(self, request, obj) -> None:
        audit_record(
            kind="config", actor=request.user, obj=obj, message=f"deleted SLA policy {obj}"
        )
        super().delete_model(request, obj)
