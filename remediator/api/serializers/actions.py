"""Shapes of the actions API."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from findings.models import Finding
from remediator.engine.models import AuditEvent, FixPullRequest, RemediationAction

from .fields import RequiredTextField, TextField


class ReasonInput(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, default="", max_length=4000)


class ApproveInput(ReasonInput):
    approve_anyway = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Approve although this process cannot read the build target's secrets "
        "(a worker with another environment may): needs a reason, and is audited. Any other "
        "reason the action cannot be dispatched is still refused (409 not_dispatchable).",
    )


class RejectInput(serializers.Serializer):
    reason = RequiredTextField(max_length=4000, help_text="Required: why the action is refused.")


class RebuildInput(serializers.Serializer):
    tag = TextField(
        required=False,
        allow_blank=True,
        default=None,
        allow_null=True,
        max_length=128,
        help_text="Tag to rebuild; default: the repository's most recently scanned tag.",
    )
    reason = TextField(required=False, allow_blank=True, default="", max_length=4000)


class ActionSerializer(serializers.ModelSerializer):
    image = serializers.SerializerMethodField(help_text="registry/repository:tag@digest")
    repository_id = serializers.IntegerField()
    tag = serializers.CharField(source="tag.name")
    digest = serializers.CharField(source="image.digest")
    policy = serializers.CharField(source="policy.name", default=None, allow_null=True)
    build_target = serializers.CharField(source="build_target.name", default=None, allow_null=True)
    requested_by = serializers.CharField(
        source="requested_by.username", default=None, allow_null=True
    )
    external_url = serializers.CharField(
        read_only=True, help_text="Link to the CI run; empty until there is one."
    )
    findings_count = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    owner = serializers.CharField(
        source="repository.owner.slug",
        default=None,
        allow_null=True,
        help_text="The owning team's slug; null: unowned",
    )

    class Meta:
        model = RemediationAction
        fields = [
            "id",
            "url",
            "kind",
            "state",
            "image",
            "repository_id",
            "owner",
            "tag",
            "digest",
            "correlation_id",
            "policy",
            "build_target",
            "requires_approval",
            "requested_by",
            "reason",
            "findings_count",
            "external_id",
            "external_url",
            "error",
            "attempts",
            "risky_marked",
            "verified_by_scan",
            "created_at",
            "updated_at",
            "dispatched_at",
            "finished_at",
            "verify_deadline",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_image(self, action: RemediationAction) -> str:
        text = str(action.repository)
        if action.tag.name:
            text += f":{action.tag.name}"
        return f"{text}@{action.image.digest}" if action.image.digest else text

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, action: RemediationAction) -> str:
        return f"{settings.BASE_URL}/api/v1/actions/{action.pk}/"


class CoveredFindingSerializer(serializers.ModelSerializer):
    class Meta:
        model = Finding
        fields = [
            "id",
            "vulnerability_id",
            "package",
            "installed_version",
            "fixed_version",
            "severity",
            "status",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor_label")

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "kind", "actor", "from_state", "to_state", "message", "data"]
        read_only_fields = fields


class FixPullRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = FixPullRequest
        fields = [
            "number",
            "url",
            "state",
            "branch",
            "base",
            "path",
            "head_sha",
            "merge_commit_sha",
            "merged_at",
        ]
        read_only_fields = fields


class ActionDetailSerializer(ActionSerializer):
    findings = serializers.SerializerMethodField()
    transitions = serializers.SerializerMethodField()
    provider_calls = serializers.SerializerMethodField()
    pull_request = serializers.SerializerMethodField()

    class Meta(ActionSerializer.Meta):
        fields = [
            *ActionSerializer.Meta.fields,
            "findings",
            "transitions",
            "provider_calls",
            "pull_request",
        ]
        read_only_fields = fields

    @extend_schema_field(FixPullRequestSerializer(allow_null=True))
    def get_pull_request(self, action: RemediationAction) -> dict | None:
        """The fix pull request of a pull_request action, once it has one."""
        record = FixPullRequest.objects.filter(action=action).first()
        return FixPullRequestSerializer(record).data if record else None

    @extend_schema_field(CoveredFindingSerializer(many=True))
    def get_findings(self, action: RemediationAction) -> list:
        rows = action.findings.order_by("-severity_rank", "vulnerability_id")[:500]
        return CoveredFindingSerializer(rows, many=True).data

    def _events(self, action: RemediationAction, kinds: tuple[str, ...]) -> list:
        rows = action.events.filter(kind__in=kinds).order_by("id")[:500]
        return EventSerializer(rows, many=True).data

    @extend_schema_field(EventSerializer(many=True))
    def get_transitions(self, action: RemediationAction) -> list:
        return self._events(action, ("transition", "approval"))

    @extend_schema_field(EventSerializer(many=True))
    def get_provider_calls(self, action: RemediationAction) -> list:
        return self._events(action, ("provider_call", "notification"))


class DockerfileInput(serializers.Serializer):
    dockerfile = RequiredTextField(
        trim_whitespace=False, max_length=256 * 1024, help_text="The Dockerfile to patch."
    )


class DockerfilePatchSerializer(serializers.Serializer):
    dockerfile_source = serializers.ChoiceField(choices=["build_target", "request"])
    diff = serializers.CharField(help_text="Unified diff; empty when nothing needs changing.")
    changes = serializers.ListField(child=serializers.CharField())
    warnings = serializers.ListField(child=serializers.CharField())
