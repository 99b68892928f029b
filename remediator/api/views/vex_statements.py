"""Vendors' VEX statements: those that speak of one finding, and the imported documents."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import Finding, VexImport
from findings.selectors.scope import visible
from findings.vex.selectors import finding_statements
from remediator.api.permissions import Needs
from remediator.api.serializers.vex import FindingVexStatementsSerializer, VexImportSerializer
from remediator.core import permissions

from .findings import ReadApi


class FindingVexStatementsApi(ReadApi, APIView):
    permission_classes = [Needs.of(permissions.VIEW_FINDING)]

    @extend_schema(
        tags=["findings"],
        summary="The vendor statements (VEX) that speak of one finding",
        responses=FindingVexStatementsSerializer,
    )
    def get(self, request, pk: int) -> Response:
        finding = get_object_or_404(visible(Finding.objects.all(), request.user), pk=pk)
        views = finding_statements(Finding.objects.filter(pk=finding.pk)).get(finding.pk, [])
        return Response({"finding": finding.pk, "statements": [v.as_dict() for v in views]})


@extend_schema_view(get=extend_schema(tags=["vex"], summary="Imported VEX documents, newest first"))
class VexImportListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_DELIVERY)]
    serializer_class = VexImportSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet:
        return VexImport.objects.all()
