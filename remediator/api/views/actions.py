"""Actions API: list and detail, the approval gates, and rebuilds requested by hand.

Refusals answer ``{"error": code, "detail": why}``: 403 for permission and
four eyes, 409 for the wrong state, 400 for bad input, 404 for unknown ids.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import Repository, Tag
from findings.selectors.scope import visible
from remediator.api.errors import ApiError, ErrorShapeMixin
from remediator.api.lists import ListFilterBackend
from remediator.api.pagination import NewestFirst
from remediator.api.parsers import API_PARSERS
from remediator.api.permissions import Needs
from remediator.api.serializers.actions import (
    ActionDetailSerializer,
    ActionSerializer,
    ApproveInput,
    DockerfileInput,
    DockerfilePatchSerializer,
    ReasonInput,
    RebuildInput,
    RejectInput,
)
from remediator.api.serializers.findings import ErrorSerializer
from remediator.api.services import service_call, valid_input
from remediator.core import permissions
from remediator.engine.filters import ActionFilter
from remediator.engine.models import OPEN_STATES, ActionKind, RemediationAction
from remediator.engine.selectors import actions_with_counts
from remediator.engine.services import (
    NoDockerfile,
    action_dockerfile_patch,
    action_gate,
    action_request_pull_request,
    action_request_rebuild,
)

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Bad input, e.g. a reject without reason."),
    403: OpenApiResponse(ErrorSerializer, description="No permission, or four eyes."),
    404: OpenApiResponse(ErrorSerializer, description="No such action."),
    409: OpenApiResponse(
        ErrorSerializer,
        description="The action is not in a state for this, or cannot be dispatched "
        "(not_dispatchable: no enabled build target matches, its secrets are not set).",
    ),
}
NO_PULL_TARGET = OpenApiResponse(
    ErrorSerializer,
    description="No enabled GitHub or GitLab build target matches the image (no_build_target).",
)


class ActionsApi(ErrorShapeMixin):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [Needs.of(permissions.VIEW_ACTION)]
    parser_classes = API_PARSERS
    filter_backends = [ListFilterBackend]


class ActionListApi(ActionsApi, generics.ListAPIView):
    serializer_class = ActionSerializer
    pagination_class = NewestFirst
    filterset_class = ActionFilter

    def get_queryset(self) -> QuerySet[RemediationAction]:
        return actions_with_counts()

    @extend_schema(operation_id="actions_list", summary="Remediation actions, newest first")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class ActionDetailApi(ActionsApi, generics.RetrieveAPIView):
    serializer_class = ActionDetailSerializer

    def get_queryset(self) -> QuerySet[RemediationAction]:
        return actions_with_counts()

    @extend_schema(
        operation_id="actions_retrieve",
        summary="One action: findings covered, transitions, provider calls, CI run link",
        responses={200: ActionDetailSerializer, 404: ERRORS[404]},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


def _answer(run, *, created: bool = False) -> Response:
    action = service_call(run, not_found=RemediationAction.DoesNotExist, what="action")
    detail = actions_with_counts().get(pk=action.pk)
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(ActionDetailSerializer(detail).data, status=code)


GATE_DOCS: dict[str, tuple[type | None, str]] = {
    "approve": (
        ApproveInput,
        "Approve an action awaiting approval (not your own: four eyes; 409 not_dispatchable "
        "when it cannot be dispatched, naming what to configure)",
    ),
    "reject": (RejectInput, "Reject an action awaiting approval, with a reason (not your own)"),
    "cancel": (ReasonInput, "Cancel an open action (its requester or an approver)"),
    "retry": (
        None,
        "Retry a failed or verification_failed action (back to approved, dispatched)",
    ),
}
"""Per gate of ``remediator.engine.services.GATES``: the body it reads, its summary."""
GATE_ERRORS = {
    "approve": {
        422: OpenApiResponse(
            ErrorSerializer, description="approve_anyway without a reason (reason_required)."
        )
    }
}


class ActionGateApi(ActionsApi, APIView):
    """``POST actions/{id}/{gate}/``: one view for every gate, ``gate`` set per route."""

    gate = ""
    needs = {  # cancel: the requester or an approver, which the service decides
        "approve": (permissions.VIEW_ACTION, permissions.APPROVE_ACTION),
        "reject": (permissions.VIEW_ACTION, permissions.APPROVE_ACTION),
        "retry": (permissions.VIEW_ACTION, permissions.APPROVE_ACTION),
        "cancel": (permissions.VIEW_ACTION,),
    }

    def post(self, request: Request, pk: int) -> Response:
        input_class, _ = GATE_DOCS[self.gate]
        data = valid_input(input_class, request) if input_class else {}
        return _answer(
            lambda: action_gate(
                gate=self.gate,
                action_id=pk,
                user=request.user,
                reason=data.get("reason", ""),
                approve_anyway=data.get("approve_anyway", False),
            )
        )

    @classmethod
    def for_gate(cls, gate: str) -> type[ActionGateApi]:
        """The view class of one gate, documented under ``actions_<gate>``."""
        input_class, summary = GATE_DOCS[gate]

        @extend_schema(
            operation_id=f"actions_{gate}",
            summary=summary,
            request=input_class,
            responses={200: ActionDetailSerializer, **ERRORS, **GATE_ERRORS.get(gate, {})},
        )
        def post(self: ActionGateApi, request: Request, pk: int) -> Response:
            return cls.post(self, request, pk)

        attributes = {
            "gate": gate,
            "post": post,
            "__doc__": f"{summary}.",
            "permission_classes": [Needs.of(*cls.needs[gate])],
        }
        return type(f"Action{gate.title()}Api", (cls,), attributes)


class ImageRebuildApi(ActionsApi, APIView):
    permission_classes = [Needs.of(permissions.VIEW_REPOSITORY, permissions.REQUEST_ACTION)]

    kind = ActionKind.REBUILD

    def request_action(self, *, tag: Tag, user: Any, reason: str) -> RemediationAction:
        return action_request_rebuild(tag=tag, user=user, reason=reason)

    @extend_schema(
        operation_id="images_rebuild",
        summary="Request a rebuild of an image tag by hand",
        request=RebuildInput,
        responses={
            201: ActionDetailSerializer,
            200: OpenApiResponse(ActionDetailSerializer, description="Joined the open rebuild."),
            **ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        data = valid_input(RebuildInput, request)
        repository = visible(Repository.objects.filter(pk=pk), request.user).first()
        if repository is None:
            raise ApiError(404, "not_found", "no such image repository")
        tags = Tag.objects.filter(repository=repository)
        if data["tag"]:
            tag = tags.filter(name=data["tag"]).first()
        else:
            tag = (
                tags.filter(latest_scanned_at__isnull=False).order_by("-latest_scanned_at").first()
            )
        if tag is None:
            raise ApiError(404, "not_found", f"{repository} has no tag {data['tag'] or ''}".strip())
        existed = RemediationAction.objects.filter(
            Q(tag=tag, kind=self.kind, state__in=OPEN_STATES)
        ).exists()
        return _answer(
            lambda: self.request_action(tag=tag, user=request.user, reason=data["reason"]),
            created=not existed,
        )


class ImagePullRequestApi(ImageRebuildApi):
    kind = ActionKind.PULL_REQUEST

    def request_action(self, *, tag: Tag, user: Any, reason: str) -> RemediationAction:
        return action_request_pull_request(tag=tag, user=user, reason=reason)

    @extend_schema(
        operation_id="images_pull_request",
        summary="Request a fix pull request of an image tag's Dockerfile",
        request=RebuildInput,
        responses={
            201: ActionDetailSerializer,
            200: OpenApiResponse(ActionDetailSerializer, description="Joined the open one."),
            **ERRORS,
            409: OpenApiResponse(
                ErrorSerializer,
                description="``no_findings``: the tag has no open finding with a fixed "
                "version, so there is nothing to change.",
            ),
            422: NO_PULL_TARGET,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class ActionDockerfilePatchApi(ActionsApi, APIView):
    """The Dockerfile patch for an action: GET for the build target's Dockerfile,
    POST ``{"dockerfile": "..."}`` for one of your own."""

    def _patch(self, pk: int, dockerfile: str) -> Response:
        actions = RemediationAction.objects.select_related("build_target").filter(pk=pk)
        action = visible(actions, self.request.user).first()
        if action is None:
            raise ApiError(404, "not_found", "no such action")
        try:
            patch = action_dockerfile_patch(action=action, dockerfile=dockerfile)
        except NoDockerfile as exc:
            raise ApiError(422, "no_dockerfile", str(exc)) from exc
        data = {
            "dockerfile_source": "request" if dockerfile.strip() else "build_target",
            "diff": patch.diff,
            "changes": patch.changes,
            "warnings": patch.warnings,
        }
        return Response(DockerfilePatchSerializer(data).data)

    @extend_schema(
        operation_id="actions_dockerfile_patch",
        summary="Dockerfile patch for the build target's Dockerfile",
        responses={
            200: DockerfilePatchSerializer,
            404: ERRORS[404],
            422: OpenApiResponse(ErrorSerializer, description="No Dockerfile stored."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        return self._patch(pk, "")

    @extend_schema(
        operation_id="actions_dockerfile_patch_posted",
        summary="Dockerfile patch for a Dockerfile sent in the request",
        request=DockerfileInput,
        responses={200: DockerfilePatchSerializer, 400: ERRORS[400], 404: ERRORS[404]},
    )
    def post(self, request: Request, pk: int) -> Response:
        return self._patch(pk, valid_input(DockerfileInput, request)["dockerfile"])
