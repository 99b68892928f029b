"""OpenAPI annotations: the error answers of every operation, and the webhook endpoints."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from findings.parsers import SOURCES
from remediator.api.permissions import view_requirements
from remediator.api.serializers.fields import TextField
from remediator.api.serializers.findings import ErrorSerializer, WebhookAnswerSerializer


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


def _header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(
        name, OpenApiTypes.STR, OpenApiParameter.HEADER, description=description
    )


SOURCE = OpenApiParameter(
    "source",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(SOURCES),
    description="Report format; 'auto' detects it, 'harbor' also takes Harbor scan events.",
)
SECRET = OpenApiParameter(
    "secret",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The webhook secret, for senders that cannot set headers (Aqua, Trivy plugin).",
)
COMMON_PARAMETERS = [
    SOURCE,
    OpenApiParameter(
        "image",
        OpenApiTypes.STR,
        OpenApiParameter.QUERY,
        description="Image reference for reports that name none (e.g. a Trivy scan of a tar).",
    ),
    _header("Authorization", "'Bearer <secret>' or the bare secret (Harbor's auth header)."),
    _header("webhook-id", "Standard Webhooks message id; also the delivery's dedup id."),
    _header("webhook-timestamp", "Standard Webhooks: Unix seconds, within five minutes of now."),
    _header(
        "webhook-signature", "Standard Webhooks: 'v1,<base64 HMAC-SHA256>' (space-separated list)."
    ),
    _header("X-Hub-Signature-256", "'sha256=<hex HMAC-SHA256 of the body>'."),
    _header("X-GitHub-Delivery", "The sender's delivery id (dedup)."),
    _header("X-Remediator-Image", "Like ?image=: the image of a report that names none."),
]
RESPONSES = {
    202: OpenApiResponse(WebhookAnswerSerializer, description="Stored and queued for processing."),
    200: OpenApiResponse(
        WebhookAnswerSerializer,
        description="A duplicate (the first delivery is returned), or a Harbor event that is "
        "recorded and ignored (scan failed/stopped, other event types).",
    ),
    400: _error("Not JSON, not UTF-8, or nested too deeply (kept as a rejected delivery)."),
    401: _error("Missing or wrong credentials."),
    403: _error("No secret is configured for this source."),
    404: _error("Unknown source."),
    405: _error("Only POST is accepted."),
    411: _error("Chunked body on a server that cannot stream it."),
    413: _error("Body larger than INGEST_MAX_BYTES."),
    422: _error("JSON of no known format, or naming no image (kept as a rejected delivery)."),
    429: _error("Over WEBHOOK_RATE_LIMIT posts a minute from this client; see Retry-After."),
}
REQUEST = {
    "application/json": OpenApiTypes.ANY,
    "application/cloudevents+json": OpenApiTypes.ANY,
}
"""Any body: it is stored as received, then read by its format (400 when it is empty or
not JSON, 422 when it is no report Remediator knows; a repeat of a stored body answers
200 as a duplicate, whatever it holds)."""


def _post(parameters: list[OpenApiParameter], operation_id: str) -> extend_schema:
    return extend_schema(
        operation_id=operation_id,
        summary="Receive a scan report or Harbor event",
        description="Access: the webhook secret of the source (no user; see docs/scanners.md).",
        tags=["webhooks"],
        auth=[],
        request=REQUEST,
        parameters=parameters,
        responses=RESPONSES,
    )


webhook_schema = extend_schema_view(post=_post(COMMON_PARAMETERS, "webhook_receive"))
webhook_secret_path_schema = extend_schema_view(
    post=_post([*COMMON_PARAMETERS, SECRET], "webhook_receive_with_secret")
)


ERROR_ANSWERS = {
    "400": "Bad input: a filter, a cursor or a body field (the detail names it).",
    "401": "Not signed in, or the token is wrong.",
    "403": "Signed in without the permission this needs.",
    "404": "No such object (ids are numbers), or no such route.",
}


class ApiAutoSchema(AutoSchema):
    """Every operation says what calling it needs (its ``Needs``) and documents the
    ``{"error", "detail"}`` answers it can give (400, 401, 403, and 404 where the path
    names an object) beside its own."""

    def get_description(self) -> str:
        description = super().get_description() or ""
        access = view_requirements(type(self.view))
        if not access:
            return description
        return f"{description}\n\n{access}".strip()

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction)
        for code, description in ERROR_ANSWERS.items():
            if code in responses or (code == "404" and "{" not in self.path):
                continue
            answer = OpenApiResponse(ErrorSerializer, description=description)
            responses[code] = self._get_response_for_code(answer, code, direction=direction)
        return responses


class TextFieldSchema(OpenApiSerializerFieldExtension):
    """A TextField is a string with its refusals as one ``pattern`` (no NUL; for a
    required one, something besides white space). drf-spectacular would wrap a pattern
    of a field that allows "" in ``oneOf: [pattern, maxLength 0]``, which "" matches twice
    and so fails: an empty reason looked schema-violating although it is accepted."""

    target_class = TextField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction) -> dict:
        field = self.target
        pattern = field.pattern.regex.pattern.replace(r"\x", r"\u00")  # ECMA escapes
        schema: dict = {"type": "string", "pattern": pattern}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
        return schema
