"""An image's decisions for the scanners: its OpenVEX document (every digest, or one
with ``?digest=``), ``.trivyignore.yaml`` and ``.grype.yaml``. Viewer role; team
scoping as every image read."""

from __future__ import annotations

import re

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import Repository
from findings.selectors.scope import visible
from remediator.api.errors import ApiError
from remediator.api.permissions import Needs
from remediator.api.serializers.findings import ErrorSerializer
from remediator.api.views.findings import ReadApi
from remediator.core import permissions
from remediator.engine.vex.serve import UnknownDigest, image_ignore_file, image_vex

READ = [Needs.of(permissions.VIEW_REPOSITORY, permissions.VIEW_FINDING)]
DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128}")
DIGEST_PARAMETER = OpenApiParameter(
    "digest",
    str,
    description="One digest of the image (sha256:<hex>); all of them when absent or empty.",
    required=False,
    pattern=rf"^(|{DIGEST.pattern})$",
)
NOT_FOUND = OpenApiResponse(
    ErrorSerializer,
    description="No such image, no such digest of it, or (VEX) no statement to make.",
)
BAD_DIGEST = OpenApiResponse(ErrorSerializer, description="digest is not sha256:<64 hex>.")


def _repository(request: Request, pk: int) -> Repository:
    repository = visible(Repository.objects.all(), request.user).filter(pk=pk).first()
    if repository is None:
        raise ApiError(404, "not_found", "no such image")
    return repository


def _digest(request: Request) -> str:
    digest = request.query_params.get("digest", "")
    if digest and not DIGEST.fullmatch(digest):
        raise ApiError(400, "invalid", "digest: expected sha256:<64 lowercase hex>")
    return digest


def _filename(repository: Repository, digest: str, suffix: str) -> str:
    name = repository.name.rsplit("/", 1)[-1]
    short = f"-{digest.split(':', 1)[1][:12]}" if digest else ""
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{name}{short}") + suffix


class ImageFilesApi(ReadApi, APIView):
    permission_classes = READ

    def get_queryset(self) -> QuerySet[Repository]:  # for the schema generator
        return Repository.objects.none()


class ImageVexApi(ImageFilesApi):
    @extend_schema(
        operation_id="images_vex",
        tags=["images"],
        summary="The image's OpenVEX document: false positives not_affected, acceptances "
        "affected, investigations under_investigation, fixes fixed",
        parameters=[DIGEST_PARAMETER],
        responses={200: OpenApiTypes.OBJECT, 400: BAD_DIGEST, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        repository = _repository(request, pk)
        digest = _digest(request)
        try:
            document = image_vex(repository, digest)
        except UnknownDigest as exc:
            raise ApiError(404, "not_found", "no such digest of this image") from exc
        if document is None:
            raise ApiError(404, "not_found", "no VEX statement for this image (no decision)")
        answer = Response(document)
        name = _filename(repository, digest, ".openvex.json")
        answer["Content-Disposition"] = f'attachment; filename="{name}"'
        return answer


class _IgnoreFileApi(ImageFilesApi):
    kind = ""
    suffix = ""

    def get(self, request: Request, pk: int) -> HttpResponse:
        repository = _repository(request, pk)
        digest = _digest(request)
        try:
            text = image_ignore_file(repository, kind=self.kind, digest=digest)
        except UnknownDigest as exc:
            raise ApiError(404, "not_found", "no such digest of this image") from exc
        answer = HttpResponse(text, content_type="application/yaml; charset=utf-8")
        name = _filename(repository, digest, self.suffix)
        answer["Content-Disposition"] = f'attachment; filename="{name}"'
        return answer


YAML_RESPONSES = {
    (200, "application/yaml"): OpenApiTypes.OBJECT,  # a YAML mapping
    400: BAD_DIGEST,
    404: NOT_FOUND,
}


class ImageTrivyIgnoreApi(_IgnoreFileApi):
    kind, suffix = "trivy", ".trivyignore.yaml"

    @extend_schema(
        operation_id="images_trivyignore",
        tags=["images"],
        summary="The image's accepted risks (with expired_at) and false positives as "
        "Trivy's .trivyignore.yaml",
        parameters=[DIGEST_PARAMETER],
        responses=YAML_RESPONSES,
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return super().get(request, pk)


class ImageGrypeIgnoreApi(_IgnoreFileApi):
    kind, suffix = "grype", ".grype.yaml"

    @extend_schema(
        operation_id="images_grype_ignore",
        tags=["images"],
        summary="The image's running acceptances and false positives as Grype ignore "
        "rules (.grype.yaml; fetch again before each scan: Grype has no expiry)",
        parameters=[DIGEST_PARAMETER],
        responses=YAML_RESPONSES,
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        return super().get(request, pk)
