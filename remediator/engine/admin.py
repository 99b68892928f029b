"""Admin: policies and build targets are edited here; actions and audit are read-only.

Approve/reject from the admin call the same services as the API and dashboard.
"""

from __future__ import annotations

import dataclasses

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from remediator.core import permissions
from remediator.core.secrets import MissingSecret, read_target_secret, target_secret_problem

from .admin_lines import ListFieldsAdmin
from .audit import audit_record
from .models import (
    AdmissionPolicy,
    Approval,
    AuditEvent,
    BuildTarget,
    FixPullRequest,
    Policy,
    RemediationAction,
)
from .rules.criteria import Criteria
from .services import ActionNotAllowed, action_approve, action_reject
from .services.dry_run_store import policy_dry_run_enqueue

CRITERIA = tuple(field.name for field in dataclasses.fields(Criteria))
"""The criteria columns (``PolicyCriteria``), in the rule language's order."""
CRITERIA_COLUMNS = ["min_severity", "fix_available", "fix_grace_days", "package_glob"]
CRITERIA_COLUMNS += ["image_glob", "namespace_glob", "kev", "min_epss"]


class PolicyCriteriaAdmin(ListFieldsAdmin, admin.ModelAdmin):
    """What both kinds of policy share: the same criteria, shown and edited alike."""

    list_fields = {
        "vulnerability_ids": "One CVE / GHSA id per line, e.g. CVE-2024-6119; empty: any.",
        "notify_channels": "One channel per line, e.g. email or slack.",
    }

    outcome_fields: tuple[str, ...] = ()
    """The fields that say what a match leads to."""
    list_editable = ["order", "enabled"]
    search_fields = ["name", "description", "image_glob", "package_glob", "namespace_glob"]
    ordering = ["order", "id"]

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["name", "order", "enabled", "description"]}),
            ("Which findings (an empty condition always holds)", {"fields": list(CRITERIA)}),
            ("What a match leads to", {"fields": list(self.outcome_fields)}),
        ]


@admin.register(Policy)
class PolicyAdmin(PolicyCriteriaAdmin):
    outcome_fields = ("action", "requires_approval", "notify_channels", "build_target", "owner")
    list_display = ["name", "order", "enabled", "action", *CRITERIA_COLUMNS]
    list_display += ["requires_approval", "build_target", "owner"]
    list_filter = ["enabled", "action", "requires_approval", "kev", "running"]
    raw_id_fields = ["owner"]

    # Every change to the rules queues a fresh dry run for the Policies page.
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        policy_dry_run_enqueue()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        policy_dry_run_enqueue()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        policy_dry_run_enqueue()


@admin.register(AdmissionPolicy)
class AdmissionPolicyAdmin(PolicyCriteriaAdmin):
    """Rules of the Kubernetes admission webhook; every change is audited and clears its
    cached verdicts (remediator/engine/receivers.py)."""

    outcome_fields = ("mode", "require_digest")
    list_display = ["name", "order", "enabled", "mode", *CRITERIA_COLUMNS, "require_digest"]
    list_editable = ["order", "enabled", "mode"]
    list_filter = ["enabled", "mode", "kev", "require_digest"]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        verb = "changed" if change else "created"
        audit_record(kind="config", actor=request.user, obj=obj, message=f"{verb} {obj}")

    def delete_model(self, request, obj) -> None:
        audit_record(kind="config", actor=request.user, obj=obj, message=f"deleted {obj}")
        super().delete_model(request, obj)


def _env_state(name: str) -> str:
    """The secret's name and whether it is usable; its value is read, never shown."""
    if not name:
        return "—"
    if target_secret_problem(name):
        return f"{name} (REFUSED: not an allowed secret name)"
    try:
        read_target_secret(name)
    except MissingSecret:
        return f"{name} (NOT SET)"
    return f"{name} (set)"


@admin.register(BuildTarget)
class BuildTargetAdmin(ListFieldsAdmin, admin.ModelAdmin):
    list_fields = {
        "image_patterns": 'One glob per line over "registry/repository", e.g. docker.io/acme/*.'
    }
    list_display = ["name", "provider", "project", "ref", "enabled", "token", "api_token"]
    list_filter = ["provider", "enabled"]
    search_fields = ["name", "project"]
    readonly_fields = ["token", "api_token", "created_at", "updated_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}  # a bare host: https

    @admin.display(description="token env var")
    def token(self, target: BuildTarget) -> str:
        """Whether the named variable is set; never its value."""
        return _env_state(target.token_env)

    @admin.display(description="API token env var")
    def api_token(self, target: BuildTarget) -> str:
        return _env_state(target.api_token_env)


class ApprovalInline(admin.TabularInline):
    model = Approval
    extra = 0
    can_delete = False
    fields = ["decision", "user", "reason", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class FixPullRequestInline(admin.StackedInline):
    model = FixPullRequest
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in FixPullRequest._meta.get_fields() if f.concrete]

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RemediationAction)
class RemediationActionAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "tag", "policy", "requested_by", "created_at"]
    list_filter = ["state", "kind", "requires_approval", "risky_marked"]
    search_fields = ["repository__name", "tag__name", "external_id", "correlation_id"]
    list_select_related = ["tag__repository", "policy", "requested_by"]
    inlines = [ApprovalInline, FixPullRequestInline]
    actions = ["approve_selected", "reject_selected"]
    readonly_fields = [f.name for f in RemediationAction._meta.get_fields() if f.concrete]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _each(self, request: HttpRequest, queryset: QuerySet, run, done: str) -> None:
        ok = 0
        for action in queryset:
            try:
                run(action)
                ok += 1
            except ActionNotAllowed as exc:
                self.message_user(request, f"#{action.pk}: {exc}", messages.ERROR)
        if ok:
            self.message_user(request, f"{ok} action(s) {done}.", messages.SUCCESS)

    @admin.action(description="Approve selected actions", permissions=["approve"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda a: action_approve(action_id=a.pk, user=request.user, reason="via admin"),
            "approved",
        )

    @admin.action(description="Reject selected actions", permissions=["approve"])
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda a: action_reject(action_id=a.pk, user=request.user, reason="rejected in admin"),
            "rejected",
        )

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(permissions.APPROVE_ACTION)


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    list_display = ["id", "action", "decision", "user", "requested_by", "created_at"]
    list_filter = ["decision"]
    raw_id_fields = ["action", "user", "requested_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # decisions are made through the services (four eyes, transitions)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "kind", "actor_label", "object_type", "object_id"]
    list_display += ["from_state", "to_state", "message"]
    list_filter = ["kind", "object_type"]
    search_fields = ["message", "actor_label", "object_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# SLA policies, teams and ownership rules are registered in their own modules.
from . import admin_sla, admin_teams  # noqa: E402, F401
