"""A policy's backtest: what it would have done over the stored scans of the last N days."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from remediator.api.errors import ApiError, ErrorShapeMixin, error_response
from remediator.api.parsers import API_PARSERS
from remediator.api.permissions import Needs
from remediator.api.serializers.findings import ErrorSerializer
from remediator.core import permissions
from remediator.engine.models import Policy
from remediator.engine.services.backtest import MAX_DAYS, Backtest
from remediator.engine.services.backtest_guard import BacktestBusy, policy_backtest_guarded


class TotalsSerializer(serializers.Serializer):
    actions = serializers.IntegerField()
    images = serializers.IntegerField(help_text="Distinct image tags acted on.")
    approvals = serializers.IntegerField(help_text="Actions a person would have approved.")
    peak_day = serializers.DateField(allow_null=True, help_text="The day with most new actions.")
    peak_actions = serializers.IntegerField(help_text="New actions on the peak day (the storm).")


class SimulatedSerializer(TotalsSerializer):
    scans = serializers.IntegerField(help_text="Scans replayed.")
    findings_decided = serializers.IntegerField()
    findings_joined = serializers.IntegerField(help_text="Joined an action already open.")


class DaySerializer(serializers.Serializer):
    day = serializers.DateField()
    simulated = serializers.IntegerField()
    actual = serializers.IntegerField()


class BacktestSerializer(serializers.Serializer):
    policy = serializers.IntegerField()
    days = serializers.IntegerField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    simulated = SimulatedSerializer()
    actual = TotalsSerializer(help_text="What the policy really created in the window.")
    daily = DaySerializer(many=True)


class BacktestInput(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, default=30)


def backtest_data(result: Backtest, policy_id: int) -> dict:
    simulated, actual = result.replay, result.actual
    return {
        "policy": policy_id,
        "days": result.days,
        "since": result.since,
        "until": result.until,
        "simulated": {
            "actions": simulated.actions,
            "images": len(simulated.images),
            "approvals": simulated.approvals,
            "peak_day": simulated.peak[0],
            "peak_actions": simulated.peak[1],
            "scans": simulated.scans,
            "findings_decided": simulated.decided,
            "findings_joined": simulated.joined,
        },
        "actual": {
            "actions": actual.actions,
            "images": actual.images,
            "approvals": actual.approvals,
            "peak_day": actual.peak[0],
            "peak_actions": actual.peak[1],
        },
        "daily": [
            {"day": d.day, "simulated": d.simulated, "actual": d.actual} for d in result.daily
        ],
    }


class PolicyBacktestApi(ErrorShapeMixin, APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [Needs.of(permissions.VIEW_POLICY)]
    parser_classes = API_PARSERS

    @extend_schema(
        tags=["policies"],
        summary="Backtest: what this policy would have done over the last N days of scans",
        parameters=[
            OpenApiParameter(
                "days",
                {"type": "integer", "minimum": 1, "maximum": settings.BACKTEST_MAX_DAYS},
                description="1 to BACKTEST_MAX_DAYS (90 unless set; default 30)",
            ),
        ],
        responses={
            200: BacktestSerializer,
            400: OpenApiResponse(ErrorSerializer, description="days is not 1..BACKTEST_MAX_DAYS."),
            404: OpenApiResponse(ErrorSerializer, description="No such policy."),
            429: OpenApiResponse(
                ErrorSerializer,
                description="A backtest of yours, or BACKTEST_MAX_RUNNING in all, is running "
                "(Retry-After says when to ask again).",
            ),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        # a plain dict: DRF reads an empty value of a QueryDict as "not given" (the default)
        given = BacktestInput(data=request.query_params.dict())
        longest = settings.BACKTEST_MAX_DAYS
        if not given.is_valid() or given.validated_data["days"] > longest:
            raise ApiError(400, "invalid", f"days must be a whole number from 1 to {longest}")
        if not Policy.objects.filter(pk=pk).exists():
            raise ApiError(404, "not_found", "no such policy")
        try:
            result = policy_backtest_guarded(
                user_key=str(request.user.pk), days=given.validated_data["days"], policy_ids=[pk]
            )
        except BacktestBusy as exc:
            return error_response(
                429, "too_many_backtests", str(exc), **{"Retry-After": str(exc.retry_after)}
            )
        return Response(BacktestSerializer(backtest_data(result, pk)).data)
