"""Admission policies: the list, and what one would deny today (over the running inventory
and the allowed admission reviews of the last N days). The Policies page's permission."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from remediator.api.errors import ApiError
from remediator.api.permissions import Needs
from remediator.api.serializers.findings import ErrorSerializer
from remediator.api.views.findings import ReadApi
from remediator.core import permissions
from remediator.core.storable import is_bigint
from remediator.engine.admission.in_view import (
    DEFAULT_DAYS,
    MAX_DAYS,
    admission_in_view_cached,
    policy_build_targets,
)
from remediator.engine.config_as_code.keys import CRITERIA_KEYS
from remediator.engine.models import AdmissionPolicy, BuildTarget
from remediator.engine.rules.would_deny import Hit, Tally


class AdmissionPolicySerializer(serializers.ModelSerializer):
    criteria = serializers.SerializerMethodField(
        help_text="The conditions, by the keys of the configuration file (shared with "
        "remediation policies); an empty condition always holds."
    )
    build_targets = serializers.SerializerMethodField(
        help_text="Enabled build targets whose image patterns overlap the image glob."
    )
    would_deny = serializers.SerializerMethodField()

    class Meta:
        model = AdmissionPolicy
        fields = [
            "id",
            "name",
            "order",
            "enabled",
            "mode",
            "require_digest",
            "description",
            "criteria",
            "build_targets",
            "would_deny",
            "updated_at",
        ]

    def get_criteria(self, policy: AdmissionPolicy) -> dict:
        return {key: getattr(policy, field) for key, (field, _) in CRITERIA_KEYS.items()}

    def get_build_targets(self, policy: AdmissionPolicy) -> list[str]:
        targets = self.context.get("targets")
        if targets is None:
            targets = self.context["targets"] = list(
                BuildTarget.objects.filter(enabled=True).order_by("id")
            )
        return [t.name for t in policy_build_targets(policy.image_glob, targets)]

    def get_would_deny(self, policy: AdmissionPolicy) -> str:
        return reverse("api-admission-policy-would-deny", args=[policy.pk])


@extend_schema_view(
    get=extend_schema(tags=["admission"], summary="Admission policies, in the order they apply")
)
class AdmissionPolicyListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_POLICY)]
    serializer_class = AdmissionPolicySerializer
    keyset_keys = ("order", "id")

    def get_queryset(self) -> QuerySet:
        return AdmissionPolicy.objects.all()


class HitSerializer(serializers.Serializer):
    cluster = serializers.CharField(source="container.cluster")
    namespace = serializers.CharField(source="container.namespace")
    kind = serializers.CharField(source="container.kind")
    name = serializers.CharField(source="container.name")
    container = serializers.CharField(source="container.container")
    image = serializers.CharField(source="container.reference")
    digest = serializers.CharField(help_text="The digest judged; '' when never scanned.")
    vulnerabilities = serializers.ListField(child=serializers.CharField(), help_text="Worst first.")
    reason = serializers.CharField(help_text='"given by tag only" for a digest policy, else "".')


class NamespaceCountSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    count = serializers.IntegerField()


class TallySerializer(serializers.Serializer):
    judged = serializers.IntegerField()
    unknown = serializers.IntegerField(help_text="Never scanned: ADMISSION_UNKNOWN_IMAGES decides.")
    matched = serializers.IntegerField(help_text="Would be denied (enforce) or warned (warn).")
    workloads = serializers.IntegerField()
    images = serializers.IntegerField()
    namespaces = NamespaceCountSerializer(many=True, help_text="Most first.")
    first = HitSerializer(many=True, help_text="The first hits (the counts cover all).")


class WouldDenySerializer(serializers.Serializer):
    policy = serializers.IntegerField()
    mode = serializers.CharField()
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    running = TallySerializer(help_text="Containers the inventory sees running.")
    reviews = TallySerializer(help_text="Allowed admission reviews of the window, per review.")
    reviews_capped = serializers.BooleanField(help_text="Only the newest reviews were judged.")


class WouldDenyInput(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=DEFAULT_DAYS)


def tally_data(tally: Tally) -> dict:
    hits: list[Hit] = tally.first
    return {
        "judged": tally.judged,
        "unknown": tally.unknown,
        "matched": tally.matched,
        "workloads": tally.workloads,
        "images": tally.images,
        "namespaces": [{"namespace": ns, "count": n} for ns, n in tally.per_namespace],
        "first": hits,
    }


class AdmissionPolicyWouldDenyApi(ReadApi, APIView):
    permission_classes = [Needs.of(permissions.VIEW_POLICY)]

    @extend_schema(
        tags=["admission"],
        summary="What this admission policy would deny today: running now, and among the "
        "allowed reviews of the last N days",
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
                description=f"1 to {MAX_DAYS} (default {DEFAULT_DAYS})",
            )
        ],
        responses={
            200: WouldDenySerializer,
            400: OpenApiResponse(ErrorSerializer, description=f"days is not 1..{MAX_DAYS}."),
            404: OpenApiResponse(ErrorSerializer, description="No such admission policy."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        # a plain dict: DRF reads an empty value of a QueryDict as "not given" (the default)
        given = WouldDenyInput(data=request.query_params.dict())
        if not given.is_valid():
            raise ApiError(400, "invalid", f"days must be a whole number from 1 to {MAX_DAYS}")
        if not is_bigint(pk) or not AdmissionPolicy.objects.filter(pk=pk).exists():
            raise ApiError(404, "not_found", "no such admission policy")
        view = admission_in_view_cached(days=given.validated_data["days"], policy_ids=[pk])
        if not view.policies:  # removed meanwhile
            raise ApiError(404, "not_found", "no such admission policy")
        (shown,) = view.policies
        data = {
            "policy": pk,
            "mode": shown.policy.mode,
            "days": view.days,
            "since": view.since,
            "until": view.until,
            "running": tally_data(shown.running),
            "reviews": tally_data(shown.reviews),
            "reviews_capped": view.reviews_capped,
        }
        return Response(WouldDenySerializer(data).data)
