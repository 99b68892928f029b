"""The VEX repository Trivy reads with ``--vex repo`` (VEX Repository Specification
v0.1): ``/.well-known/vex-repository.json``, the archive it names, and, for people, the
archive's ``index.json`` and documents unpacked.

Every read needs a role, as everywhere: a signed-in user or an API token of a user with
the Viewer role (sent as Trivy sends its repository ``token``, ``Authorization: Bearer``,
or as the password of HTTP Basic, its ``username``/``password``); team-scoped users get
their teams' images only. ``VEX_REPOSITORY_TOKEN``, when set, is a token of the
repository itself that reads every image (for a scanner without a user).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseNotModified
from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    TokenAuthentication,
)
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import Repository
from findings.selectors.scope import visible
from remediator.api.errors import ApiError, ErrorShapeMixin
from remediator.api.permissions import Needs
from remediator.api.serializers.findings import ErrorSerializer
from remediator.core import permissions
from remediator.engine.vex import repository as vex_repository
from remediator.engine.vex.serve import repository_entries

REALM = 'Bearer realm="remediator-vex-repository"'
ARCHIVE = "vex-repository.tar.gz"


class RepositoryReader:
    """Who presented VEX_REPOSITORY_TOKEN: reads the whole VEX repository, nothing else."""

    is_authenticated = True
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def has_perms(self, perms) -> bool:
        return False

    def has_perm(self, perm, obj=None) -> bool:
        return False


def _credential(header: str) -> str | None:
    """The token in ``Bearer <token>`` or the password of ``Basic <user:password>``."""
    kind, _, value = header.partition(" ")
    value = value.strip()
    if kind.lower() == "bearer" and value:
        return value
    if kind.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise exceptions.AuthenticationFailed("malformed Basic credentials") from exc
        return decoded.partition(":")[2] or None
    return None


class VexRepositoryAuthentication(BaseAuthentication):
    """The repository token, or a user's API token, as Bearer or Basic credentials."""

    def authenticate(self, request: Request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        secret = _credential(header)
        if secret is None:
            return None  # Token or session authentication may still apply
        token = settings.VEX_REPOSITORY_TOKEN
        if token and hmac.compare_digest(secret.encode(), token.encode()):
            return RepositoryReader(), None
        found = Token.objects.select_related("user").filter(key=secret[:40]).first()
        if found is None or found.key != secret or not found.user.is_active:
            raise exceptions.AuthenticationFailed("invalid token")
        return found.user, found

    def authenticate_header(self, request: Request) -> str:
        return REALM


class VexRepositoryAuthenticationScheme(OpenApiAuthenticationExtension):
    """The schema's name for it: HTTP Bearer (Basic works too, the token as password)."""

    target_class = VexRepositoryAuthentication
    name = "vexRepositoryToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A Viewer's API token or VEX_REPOSITORY_TOKEN; as HTTP Basic, "
            "the token is the password.",
        }


class ReadsVex(Needs):
    """The Viewer's permissions, or the repository token."""

    perms = (permissions.VIEW_REPOSITORY, permissions.VIEW_FINDING)
    message = "needs the permissions " + ", ".join(perms) + " or VEX_REPOSITORY_TOKEN"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.user, RepositoryReader):
            return True
        return super().has_permission(request, view)


class VexRepositoryApi(ErrorShapeMixin, APIView):
    authentication_classes = [
        VexRepositoryAuthentication,
        TokenAuthentication,
        SessionAuthentication,
    ]
    permission_classes = [ReadsVex]

    def repositories(self, request: Request) -> QuerySet[Repository]:
        if isinstance(request.user, RepositoryReader):
            return Repository.objects.all()
        return visible(Repository.objects.all(), request.user)

    def get_queryset(self) -> QuerySet[Repository]:  # for the schema generator
        return Repository.objects.none()


def archive_url() -> str:
    return settings.BASE_URL + reverse("vex-repository-archive")


class VexRepositoryManifestApi(VexRepositoryApi):
    @extend_schema(
        operation_id="vex_repository_manifest",
        tags=["vex"],
        summary="The VEX repository's manifest (VEX Repository Specification v0.1)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(
            vex_repository.manifest(
                name="Remediator",
                description=f"Decisions about container images made in Remediator "
                f"({settings.BASE_URL}): not affected, fixed, under investigation, "
                "accepted risks (affected).",
                archive_url=archive_url(),
                update_interval=settings.VEX_REPOSITORY_UPDATE_INTERVAL,
            )
        )


class VexRepositoryArchiveApi(VexRepositoryApi):
    @extend_schema(
        operation_id="vex_repository_archive",
        tags=["vex"],
        summary="The VEX repository's archive: index.json and one OpenVEX document per "
        "image repository (ETag / If-None-Match answered)",
        responses={(200, "application/gzip"): OpenApiTypes.BINARY, 304: None},
    )
    def get(self, request: Request) -> HttpResponse:
        entries, updated_at = repository_entries(self.repositories(request))
        tag = vex_repository.etag(entries, updated_at)
        if request.META.get("HTTP_IF_NONE_MATCH", "") == tag:
            answer = HttpResponseNotModified()
        else:
            answer = HttpResponse(
                vex_repository.archive(entries, updated_at), content_type="application/gzip"
            )
            answer["Content-Disposition"] = f'attachment; filename="{ARCHIVE}"'
        answer["ETag"] = tag
        return answer


class VexRepositoryIndexApi(VexRepositoryApi):
    @extend_schema(
        operation_id="vex_repository_index",
        tags=["vex"],
        summary="The archive's index.json, unpacked",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        entries, updated_at = repository_entries(self.repositories(request))
        return Response(vex_repository.index(entries, updated_at))


class VexRepositoryDocumentApi(VexRepositoryApi):
    @extend_schema(
        operation_id="vex_repository_document",
        tags=["vex"],
        summary="One document of the archive, unpacked (its location in index.json)",
        responses={
            200: OpenApiTypes.OBJECT,
            404: OpenApiResponse(ErrorSerializer, description="No such document."),
        },
    )
    def get(self, request: Request, location: str) -> Response:
        entries, _ = repository_entries(self.repositories(request))
        for item in entries:
            if item.location == f"pkg/{location}":
                return Response(item.document)
        raise ApiError(404, "not_found", "no such document in the VEX repository")
