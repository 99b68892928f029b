"""``GET /api/v1/reports/remediation/``: time to remediate two ways, SLA compliance by
month, overdue counts and the age of open findings (``findings.selectors.remediation``),
for one team and severity when asked. The findings' permission, as the Reports page."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.report_params import report_params, report_window_only
from findings.selectors.remediation import remediation_report
from remediator.api.errors import ApiError
from remediator.api.permissions import Needs
from remediator.api.serializers.findings import ErrorSerializer
from remediator.api.views.findings import ReadApi
from remediator.core import permissions
from remediator.core.severity import SEVERITIES


class SpreadSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Findings measured.")
    median_days = serializers.FloatField(allow_null=True)
    p90_days = serializers.FloatField(allow_null=True)


class MttrSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='The severity, the team\'s slug ("unowned"), or "all".')
    fixed = serializers.IntegerField(help_text="Findings fixed in the window.")
    to_fix = SpreadSerializer(help_text="first_seen to the scan that verified the fix.")
    to_not_running = SpreadSerializer(
        help_text="first_seen to the last inventory sighting of a vulnerable digest, over "
        "findings whose vulnerable digests ran and no longer run."
    )
    still_running = serializers.IntegerField(
        help_text="Fixed, but a vulnerable digest was seen running after the fix and still is."
    )
    never_running = serializers.IntegerField(
        help_text="Fixed findings none of whose vulnerable digests was seen running."
    )


class ComplianceSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM.")
    with_due = serializers.IntegerField(help_text="Fixed that month with a due date.")
    in_time = serializers.IntegerField(help_text="Of those, fixed_at <= due_at.")
    percent = serializers.FloatField(allow_null=True)


class OverdueSerializer(serializers.Serializer):
    team = serializers.CharField(source="key")
    severity = serializers.CharField()
    count = serializers.IntegerField()


class AgingSerializer(serializers.Serializer):
    bucket = serializers.CharField(source="key", help_text="0-30, 30-90, 90-180, 180+ days.")
    severity = serializers.CharField()
    count = serializers.IntegerField()


class RemediationReportSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    team = serializers.CharField()
    severity = serializers.CharField()
    overall = MttrSerializer()
    by_severity = MttrSerializer(many=True)
    by_team = MttrSerializer(many=True)
    compliance = ComplianceSerializer(many=True, help_text="The last 12 months, oldest first.")
    overdue = OverdueSerializer(many=True, help_text="Open findings past due_at.")
    aging = AgingSerializer(many=True, help_text="Open findings by age since first_seen.")
    as_of = serializers.DateTimeField()


class RemediationReportApi(ReadApi, APIView):
    permission_classes = [Needs.of(permissions.VIEW_FINDING)]

    @extend_schema(
        tags=["reports"],
        summary="Remediation figures: time to verified fix and to no longer running "
        "(median, p90), SLA compliance by month, overdue counts, aging buckets",
        parameters=[
            OpenApiParameter(
                "team",
                str,
                pattern=r"^[-a-zA-Z0-9_]{0,100}$",
                description='A team\'s slug, or "unowned".',
            ),
            OpenApiParameter(
                "severity", str, enum=["", *SEVERITIES], description="Empty: every severity."
            ),
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Default: 90 days before until."
            ),
            OpenApiParameter("until", OpenApiTypes.DATETIME, description="Default: now."),
        ],
        responses={
            200: RemediationReportSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A parameter is not valid."),
            422: OpenApiResponse(
                ErrorSerializer, description="since is not before until, or the window is too long."
            ),
        },
    )
    def get(self, request: Request) -> Response:
        blank = [name for name in ("since", "until") if request.query_params.get(name) == ""]
        if blank:  # the schema's date-time: a date, or the parameter left out
            raise ApiError(400, "invalid", f"{', '.join(blank)}: give a date or leave it out")
        params, problem = report_params(request.query_params)
        if problem:
            status = 422 if report_window_only(request.query_params) else 400
            raise ApiError(status, "invalid", problem)
        return Response(RemediationReportSerializer(remediation_report(**params)).data)
