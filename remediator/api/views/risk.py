"""Decisions about single findings: accept the risk, false positive (not affected, with
an OpenVEX justification), under investigation, reopen."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.justifications import JUSTIFICATIONS
from findings.models import Finding
from remediator.api.permissions import Needs
from remediator.api.serializers.fields import RequiredTextField, TextField
from remediator.api.serializers.findings import ErrorSerializer, FindingSerializer
from remediator.api.services import service_call, valid_input
from remediator.api.views.actions import ERRORS, ActionsApi
from remediator.core import permissions
from remediator.engine.services.risk import (
    finding_accept_risk,
    finding_investigate_start,
    finding_investigate_stop,
    finding_mark_false_positive,
    finding_reopen,
)

DECIDE = [Needs.of(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)]
UNTIL_PAST = OpenApiResponse(
    ErrorSerializer, description="until is not in the future (until_past)."
)


class AcceptInput(serializers.Serializer):
    reason = RequiredTextField(max_length=4000, help_text="Why the risk is accepted.")
    until = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the acceptance ends (the finding reopens); must be in the future "
        "(422 otherwise).",
    )


class FalsePositiveInput(serializers.Serializer):
    reason = RequiredTextField(max_length=4000, help_text="Why it is not a real finding.")
    justification = serializers.ChoiceField(
        choices=list(JUSTIFICATIONS),
        required=False,
        allow_blank=True,
        default="",
        help_text="OpenVEX's justification for not_affected (its VEX statement carries the "
        "reason as impact_statement without one).",
    )


class DecisionInput(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, default="", max_length=4000)


def _findings() -> QuerySet[Finding]:
    return Finding.objects.select_related("repository", "tag", "vulnerability")


def _respond(run) -> Response:
    finding = service_call(run, not_found=Finding.DoesNotExist, what="finding")
    return Response(FindingSerializer(_findings().get(pk=finding.pk)).data)


class FindingAcceptApi(ActionsApi, APIView):
    permission_classes = DECIDE

    @extend_schema(
        operation_id="findings_accept",
        tags=["findings"],
        summary="Accept an open finding's risk (optionally until a date); Aqua is told",
        request=AcceptInput,
        responses={200: FindingSerializer, **ERRORS, 422: UNTIL_PAST},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(AcceptInput, request)
        return _respond(
            lambda: finding_accept_risk(
                finding_id=pk, user=request.user, reason=data["reason"], until=data.get("until")
            )
        )


class FindingFalsePositiveApi(ActionsApi, APIView):
    permission_classes = DECIDE

    @extend_schema(
        operation_id="findings_false_positive",
        tags=["findings"],
        summary="Dismiss an open finding as a false positive: not affected (reason required, "
        "justification optional)",
        request=FalsePositiveInput,
        responses={200: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(FalsePositiveInput, request)
        return _respond(
            lambda: finding_mark_false_positive(
                finding_id=pk,
                user=request.user,
                reason=data["reason"],
                justification=data["justification"],
            )
        )


class FindingReopenApi(ActionsApi, APIView):
    permission_classes = DECIDE

    @extend_schema(
        operation_id="findings_reopen",
        tags=["findings"],
        summary="Reopen an accepted or false-positive finding",
        request=DecisionInput,
        responses={200: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(DecisionInput, request)
        return _respond(
            lambda: finding_reopen(finding_id=pk, user=request.user, reason=data["reason"])
        )


class InvestigateInput(serializers.Serializer):
    reason = RequiredTextField(max_length=4000, help_text="What is being investigated, and why.")


class StopInput(serializers.Serializer):
    reason = TextField(required=False, allow_blank=True, default="", max_length=4000)


class FindingInvestigateApi(ActionsApi, APIView):
    permission_classes = DECIDE

    @extend_schema(
        operation_id="findings_investigate",
        tags=["findings"],
        summary="Put an open finding under investigation (exported as VEX "
        "under_investigation; it stays open)",
        request=InvestigateInput,
        responses={200: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(InvestigateInput, request)
        return _respond(
            lambda: finding_investigate_start(
                finding_id=pk, user=request.user, reason=data["reason"]
            )
        )


class FindingStopInvestigatingApi(ActionsApi, APIView):
    permission_classes = DECIDE

    @extend_schema(
        operation_id="findings_stop_investigating",
        tags=["findings"],
        summary="End an open finding's investigation without deciding",
        request=StopInput,
        responses={200: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(StopInput, request)
        return _respond(
            lambda: finding_investigate_stop(
                finding_id=pk, user=request.user, reason=data["reason"]
            )
        )
