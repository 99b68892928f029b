"""Decisions about single findings: accept the risk, false positive, reopen."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import Finding
from remediator.api.permissions import Needs
from remediator.api.serializers.findings import FindingSerializer
from remediator.api.services import service_call, valid_input
from remediator.api.views.actions import ERRORS, ActionsApi
from remediator.core import permissions
from remediator.engine.services.risk import (
    finding_accept_risk,
    finding_mark_false_positive,
    finding_reopen,
)

DECIDE = [Needs.of(permissions.VIEW_FINDING, permissions.APPROVE_ACTION)]


class AcceptInput(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the risk is accepted.")
    until = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the acceptance ends (reopens)."
    )


class DecisionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


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
        responses={200: FindingSerializer, **ERRORS},
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
        summary="Dismiss an open finding as a false positive (reason required)",
        request=DecisionInput,
        responses={200: FindingSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(DecisionInput, request)
        return _respond(
            lambda: finding_mark_false_positive(
                finding_id=pk, user=request.user, reason=data["reason"]
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
