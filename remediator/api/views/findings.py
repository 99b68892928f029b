"""Read API over images, scans, findings, vulnerabilities and deliveries; reprocess.

Every list reads through its selectors (``findings.selectors``), filters with the
FilterSet its dashboard page uses (``findings.filters``) and pages with the keyset helper
(newest first unless its filters choose an order); it selects its relations up front,
so the number of queries per page does not grow with the page.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from findings import filters
from findings.models import Delivery, FindingWitness, Repository, Vulnerability
from findings.selectors.deliveries import deliveries_with_scan, scans_of_delivery
from findings.selectors.findings import findings_live
from findings.selectors.images import images_with_counts
from findings.selectors.scans import scans_listed
from findings.selectors.seen import witnesses_live
from findings.selectors.vulnerabilities import affected_images
from remediator.api.errors import ApiError, ErrorShapeMixin
from remediator.api.lists import ListFilterBackend
from remediator.api.pagination import ByTextId, NewestFirst
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
from remediator.api.services import service_call
from remediator.core import permissions
from remediator.core.storable import is_storable_text
from remediator.engine.services.delivery_reprocess import delivery_reprocess_by
from remediator.intake.queue import DeliveryBusy


class ReadApi(ErrorShapeMixin):
    # Token first: an anonymous request gets 401 with "WWW-Authenticate: Token".
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes: list = [NotDeclared]  # each view names what it needs (Needs.of)
    pagination_class = NewestFirst
    parser_classes = API_PARSERS
    filter_backends = [ListFilterBackend]


@extend_schema_view(get=extend_schema(tags=["images"], summary="Image repositories"))
class ImageListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_REPOSITORY)]
    serializer_class = ImageSerializer
    filterset_class = filters.ImageFilter

    def get_queryset(self) -> QuerySet:
        return images_with_counts()


@extend_schema_view(get=extend_schema(tags=["images"], summary="One image repository"))
class ImageDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_REPOSITORY)]
    serializer_class = ImageSerializer

    def get_queryset(self) -> QuerySet:
        return images_with_counts()


@extend_schema_view(get=extend_schema(tags=["scans"], summary="Scans, newest first"))
class ScanListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_SCAN)]
    queryset = scans_listed()
    serializer_class = ScanSerializer
    filterset_class = filters.ScanFilter


@extend_schema_view(get=extend_schema(tags=["scans"], summary="One scan"))
class ScanDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_SCAN)]
    queryset = scans_listed()
    serializer_class = ScanSerializer


@extend_schema_view(get=extend_schema(tags=["findings"], summary="Findings"))
class FindingListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_FINDING)]
    serializer_class = FindingSerializer
    filterset_class = filters.FindingFilter

    def get_queryset(self) -> QuerySet:
        return findings_live()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Filtered (a 400 for a bad filter), then in the order ``sort`` chose (newest
        first by default), annotated with the ranks that order needs."""
        queryset = super().filter_queryset(queryset)
        queryset, self.keyset_keys = self.filterset.sorted(queryset, default="newest")
        return queryset


@extend_schema_view(get=extend_schema(tags=["findings"], summary="One finding"))
class FindingDetailApi(ReadApi, generics.RetrieveAPIView):
    permission_classes = [Needs.of(permissions.VIEW_FINDING)]
    queryset = findings_live().prefetch_related(
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
            context["affected_images"] = [
                {
                    "repository": row["repository"],
                    "image": image_name(Repository(registry=row["registry"], name=row["name"])),
                    "tags": row["tags"],
                    "open_findings": row["open_findings"],
                    "findings": row["findings"],
                }
                for row in affected_images(vulnerability, user=self.request.user)
            ]
        return context


@extend_schema_view(get=extend_schema(tags=["deliveries"], summary="Received bodies"))
class DeliveryListApi(ReadApi, generics.ListAPIView):
    permission_classes = [Needs.of(permissions.VIEW_DELIVERY)]
    queryset = deliveries_with_scan()
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
    queryset = deliveries_with_scan(body=True)
    serializer_class = DeliveryDetailSerializer

    def get_queryset(self) -> QuerySet:
        queryset = deliveries_with_scan(body=self.request.user.is_staff)
        return queryset.prefetch_related(scans_of_delivery())


class DeliveryReprocessApi(ReadApi, APIView):
    permission_classes = [Needs.of(permissions.VIEW_DELIVERY, permissions.CHANGE_DELIVERY)]

    @extend_schema(
        tags=["deliveries"],
        summary="Process a stored delivery again (after a parser fix); audited",
        request=None,
        responses={
            202: WebhookAnswerSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not allowed to reprocess."),
            404: OpenApiResponse(ErrorSerializer, description="No such delivery."),
            409: OpenApiResponse(ErrorSerializer, description="The delivery is queued already."),
        },
    )
    def post(self, request, pk: int) -> Response:
        try:
            delivery = service_call(
                lambda: delivery_reprocess_by(delivery_id=pk, user=request.user),
                not_found=Delivery.DoesNotExist,
                what="delivery",
            )
        except DeliveryBusy as exc:
            raise ApiError(409, "conflict", str(exc)) from None
        body = {
            "delivery": delivery.pk,
            "status": delivery.status,
            "url": f"/api/v1/deliveries/{delivery.pk}/",
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)
