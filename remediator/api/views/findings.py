"""Read API over images, scans, findings, vulnerabilities and deliveries; reprocess.

Every list is cursor-paginated on ``-id`` and selects its relations up front,
so the number of queries per page does not grow with the page.
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import (
    Delivery,
    Finding,
    FindingWitness,
    Repository,
    Scan,
    Tag,
    Vulnerability,
)
from findings.querysets import ACTIVE_STATUSES
from findings.seen import witnesses_live
from findings.threat_intel.queries import sorted_by
from remediator.api import filters
from remediator.api.errors import ApiError, ErrorShapeMixin
from remediator.api.pagination import ByTextId, FindingsOrdered, NewestFirst
from remediator.api.parsers import API_PARSERS
from remediator.api.permissions import Needs, NotDeclared
from remediator.api.serializers.findings import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    ErrorSerializer,
    FindingDetailSerializer,
    FindingSerializer,
    ImageSerializer,
    ScanSerializer,
    VulnerabilityDetailSerializer,
    VulnerabilitySerializer,
    WebhookAnswerSerializer,
    image_name,
)
from remediator.core import permissions
from remediator.core.severity import SEVERITIES
from remediator.core.storable import is_storable_text
from remediator.intake.queue import DeliveryBusy, delivery_reprocess


class ReadApi(ErrorShapeMixin):
    # Token first: an anonymous request gets 401 with "WWW-Authenticate: Token".
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes: list = [NotDeclared]  # each view names what it needs (Needs.of)
    pagination_class = NewestFirst
    parser_classes = API_PARSERS


def images_queryset() -> QuerySet:
    open_by = {
        f"open_{severity}": Count(
            "findings",
            filter=Q(findings__status__in=ACTIVE_STATUSES, findings__severity=severity),
        )
        for severity in SEVERITIES
    }
    last = Scan.objects.filter(image__repository=OuterRef("pk")).order_by("-scanned_at", "-id")
    return Repository.objects.annotate(
        **open_by,
        last_scan_id=Subquery(last.values("id")[:1]),
        last_scanned_at=Subquery(last.values("scanned_at")[:1]),
    ).prefetch_related(Prefetch("tags", queryset=Tag.objects.select_related("image")))


@extend_schema_view(get=extend_schema(tags=["images"], summary="Image repositories"))
class ImageListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_REPOSITORY)]
    serializer_class = ImageSerializer
    filterset_class = filters.ImageFilter

    def get_queryset(self) -> QuerySet:
        return images_queryset()


@extend_schema_view(get=extend_schema(tags=["images"], summary="One image repository"))
class ImageDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_REPOSITORY)]
    serializer_class = ImageSerializer

    def get_queryset(self) -> QuerySet:
        return images_queryset()


SCANS = Scan.objects.select_related("image", "tag__repository")


@extend_schema_view(get=extend_schema(tags=["scans"], summary="Scans, newest first"))
class ScanListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_SCAN)]
    queryset = SCANS
    serializer_class = ScanSerializer
    filterset_class = filters.ScanFilter


@extend_schema_view(get=extend_schema(tags=["scans"], summary="One scan"))
class ScanDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_SCAN)]
    queryset = SCANS
    serializer_class = ScanSerializer


FINDINGS = Finding.objects.with_last_seen().select_related(
    "repository", "tag", "vulnerability__intel"
)


@extend_schema_view(get=extend_schema(tags=["findings"], summary="Findings"))
class FindingListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_FINDING)]
    serializer_class = FindingSerializer
    filterset_class = filters.FindingFilter
    pagination_class = FindingsOrdered

    def get_queryset(self) -> QuerySet:
        queryset, _ = sorted_by(FINDINGS, self.request.query_params.get("ordering", ""))
        return queryset  # annotated with the ranks when the ordering needs them


@extend_schema_view(get=extend_schema(tags=["findings"], summary="One finding"))
class FindingDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_FINDING)]
    queryset = FINDINGS.prefetch_related(
        Prefetch("witnesses", queryset=witnesses_live(FindingWitness.objects.all()))
    )
    serializer_class = FindingDetailSerializer


@extend_schema_view(get=extend_schema(tags=["vulnerabilities"], summary="Vulnerabilities"))
class VulnerabilityListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_VULNERABILITY)]
    queryset = Vulnerability.objects.all()
    serializer_class = VulnerabilitySerializer
    filterset_class = filters.VulnerabilityFilter
    pagination_class = ByTextId


def affected_images(vulnerability: Vulnerability) -> list[dict]:
    """Repositories with this vulnerability: counts and the tags it is open in (2 queries)."""
    findings = Finding.objects.filter(vulnerability=vulnerability).order_by()
    rows = findings.values("repository_id", "repository__registry", "repository__name").annotate(
        open=Count("id", filter=Q(status__in=ACTIVE_STATUSES)), total=Count("id")
    )
    tags: dict[int, set[str]] = {}
    for repository_id, tag in (
        findings.filter(status__in=ACTIVE_STATUSES).values_list("repository_id", "tag__name")
    ).distinct():
        tags.setdefault(repository_id, set()).add(tag)
    return [
        {
            "repository": row["repository_id"],
            "image": image_name(
                Repository(registry=row["repository__registry"], name=row["repository__name"])
            ),
            "tags": sorted(tags.get(row["repository_id"], ())),
            "open_findings": row["open"],
            "findings": row["total"],
        }
        for row in sorted(rows, key=lambda r: (-r["open"], r["repository_id"]))
    ]


@extend_schema_view(
    get=extend_schema(tags=["vulnerabilities"], summary="One vulnerability (id: CVE, GHSA, ...)")
)
class VulnerabilityDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_VULNERABILITY)]
    queryset = Vulnerability.objects.all()
    serializer_class = VulnerabilityDetailSerializer
    lookup_value_regex = ".+"

    def get_object(self) -> Vulnerability:
        if not is_storable_text(self.kwargs.get("pk", "")):
            raise ApiError(404, "not_found", "no such vulnerability (the id holds a NUL)")
        return super().get_object()

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if "pk" in self.kwargs and self.request is not None:
            vulnerability = Vulnerability(pk=self.kwargs["pk"])
            context["affected_images"] = affected_images(vulnerability)
        return context


FIRST_SCAN = Subquery(Scan.objects.filter(delivery=OuterRef("pk"), part=0).values("pk")[:1])
DELIVERIES = Delivery.objects.defer("body_gz").annotate(scan_pk=FIRST_SCAN)


@extend_schema_view(get=extend_schema(tags=["deliveries"], summary="Received bodies"))
class DeliveryListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_DELIVERY)]
    queryset = DELIVERIES
    serializer_class = DeliverySerializer
    filterset_class = filters.DeliveryFilter


@extend_schema_view(
    get=extend_schema(
        tags=["deliveries"],
        summary="One delivery: refusals, credential, witnesses; raw body preview for staff",
    )
)
class DeliveryDetailApi(ReadApi, generics.RetrieveAPIView):
    # Every reader of deliveries; the raw body and headers are null unless staff (serializer).
    permission_classes = [Needs.of(permissions.VIEW_DELIVERY)]
    queryset = Delivery.objects.annotate(scan_pk=FIRST_SCAN)
    serializer_class = DeliveryDetailSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset if self.request.user.is_staff else queryset.defer("body_gz")


class DeliveryReprocessApi(ReadApi, APIView):
    permission_classes = [Needs.of(permissions.VIEW_DELIVERY, permissions.CHANGE_DELIVERY)]

    @extend_schema(
        tags=["deliveries"],
        summary="Process a stored delivery again (after a parser fix)",
        request=None,
        responses={
            202: WebhookAnswerSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not allowed to reprocess."),
            404: OpenApiResponse(ErrorSerializer, description="No such delivery."),
            409: OpenApiResponse(ErrorSerializer, description="The delivery is queued already."),
        },
    )
    def post(self, request, pk: int) -> Response:
        delivery = get_object_or_404(Delivery.objects.defer("body_gz"), pk=pk)
        try:
            delivery = delivery_reprocess(delivery=delivery)
        except DeliveryBusy as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        body = {
            "delivery": delivery.pk,
            "status": delivery.status,
            "url": f"/api/v1/deliveries/{delivery.pk}/",
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
