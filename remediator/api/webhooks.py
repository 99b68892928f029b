"""``POST /api/v1/webhooks/<source>/[<secret>/]``: the HTTP side of receiving a report.

Order: known source -> rate limit (429) -> credentials (header or URL secret) -> size while
reading (413, INGEST_MAX_BYTES) -> signature (when that is the credential) -> the body to
``remediator.intake`` (``delivery_receive``: store, recognise, queue) -> the answer: 202
queued, 200 a duplicate or a Harbor event that asks for nothing, 400 undecodable, 422 no
usable report (bodies up to WEBHOOK_CHECK_MAX_BYTES and Harbor events; a larger report is
answered 202 once it is stored and its JSON syntax checked, undecoded (``intake/outline.py``),
and the worker rejects it if it is no usable report: the rejection shows at its delivery
URL, in /api/v1/deliveries/, on the dashboard and in the deliveries-by-status metric).
Bodies that fail authentication or the size check are never stored; bodies that fail
decoding or recognition are kept as rejected deliveries. When the database cannot store a
body it is spooled to disk and answered 202 (or 503 with Retry-After when even that
fails). Nothing before the intake touches the database (authentication reads secrets
from the environment). A request that stored a body
also replays a little of this process's spool (``spool_replay_soon``).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from findings.models import Delivery
from findings.parsers import SOURCES
from remediator.core.redact import redact_text
from remediator.intake.receive import Outcome, Receipt, Then, delivery_receive
from remediator.intake.spool_replay import spool_replay_soon

from .errors import ApiError, ErrorShapeMixin, error_response
from .rate_limit import webhook_rate_check
from .request_body import read_body
from .schema import webhook_schema, webhook_secret_path_schema
from .webhook_auth import authenticate_before_body, authenticate_signature, refuse_query_secret

KEPT_HEADERS = {
    "CONTENT_TYPE": "content-type",
    "HTTP_USER_AGENT": "user-agent",
    "HTTP_WEBHOOK_ID": "webhook-id",
    "HTTP_WEBHOOK_TIMESTAMP": "webhook-timestamp",
    "HTTP_X_GITHUB_DELIVERY": "x-github-delivery",
    "HTTP_X_GITHUB_EVENT": "x-github-event",
    "HTTP_CE_ID": "ce-id",
    "HTTP_CE_TYPE": "ce-type",
    "HTTP_CE_SOURCE": "ce-source",
}
PROBLEM_STATUS = {
    "invalid_body": 400,
    "invalid_parameter": 400,
    "unknown_format": 422,
    "no_image": 422,
    "invalid_event": 422,
    "invalid_vex": 422,
}
NOT_KEPT = {
    Outcome.SPOOL_FULL: "the database is unavailable and the spool holds WEBHOOK_SPOOL_MAX_BYTES "
    "already: the body was not kept; send it again later",
    Outcome.NOT_KEPT: "the database is unavailable and the body could not be spooled; "
    "send it again later",
}
SPOOLED = (
    "the database is unavailable: the body is kept on disk and will be stored and processed "
    "when it is back"
)


def sender_delivery_id(meta: dict) -> str:
    """The sender's own id from its headers: webhook-id, X-GitHub-Delivery, CloudEvents'
    ce-id (a CloudEvent's body names its id too: the intake reads it there)."""
    for header in ("HTTP_WEBHOOK_ID", "HTTP_X_GITHUB_DELIVERY", "HTTP_CE_ID"):
        if meta.get(header):
            return str(meta[header]).strip()
    return ""


def image_hint_of(request) -> str:
    """The image the sender names: ``?image=``, else the ``X-Remediator-Image`` header."""
    hint = request.query_params.get("image", "").strip()
    return hint or str(request._request.META.get("HTTP_X_REMEDIATOR_IMAGE", "")).strip()


def delivery_url(delivery: Delivery) -> str:
    return reverse("api-delivery-detail", args=[delivery.pk])


def answer(delivery: Delivery, code: int, **extra: object) -> Response:
    body = {"delivery": delivery.pk, "status": delivery.status, "url": delivery_url(delivery)}
    return Response({**body, **extra}, status=code)


def receipt_answer(receipt: Receipt) -> Response:
    """The HTTP answer to what the intake did with the body."""
    outcome, delivery = receipt.outcome, receipt.delivery
    if outcome in NOT_KEPT:
        retry_after = str(settings.WEBHOOK_RETRY_AFTER)
        return error_response(503, outcome.value, NOT_KEPT[outcome], **{"Retry-After": retry_after})
    if outcome is Outcome.SPOOLED:
        spooled = {"status": "spooled", "spool_id": receipt.spool_id, "detail": SPOOLED}
        if receipt.spooled_before:
            spooled["duplicate"] = True
        return Response(spooled, status=status.HTTP_202_ACCEPTED)
    if receipt.problem is not None:
        problem = receipt.problem
        raise ApiError(PROBLEM_STATUS.get(problem.error, 422), problem.error, problem.detail)
    if outcome is Outcome.DUPLICATE:
        return answer(delivery, status.HTTP_200_OK, duplicate=True, detail=delivery.error)
    if outcome is Outcome.DONE:  # a Harbor event that asks for nothing: recorded
        return answer(delivery, status.HTTP_200_OK, detail=delivery.error)
    return answer(delivery, status.HTTP_202_ACCEPTED)


@webhook_schema
class WebhookApi(ErrorShapeMixin, APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes: list = []
    renderer_classes = [JSONRenderer]

    def post(self, request, source: str, secret: str | None = None) -> Response:
        if source not in SOURCES:
            raise ApiError(
                404, "unknown_source", f"no webhook {source!r}: use {', '.join(SOURCES)}"
            )
        raw = request._request
        cache_down = webhook_rate_check(raw, source)  # before the body is read; never stored
        refuse_query_secret(raw.GET, source)
        credential = authenticate_before_body(raw.META, source, secret)
        body = read_body(raw, settings.INGEST_MAX_BYTES, "INGEST_MAX_BYTES")
        if credential is None:
            credential = authenticate_signature(raw.META, source, body)
        headers = {
            name: str(raw.META[key])[:300]
            for key, name in KEPT_HEADERS.items()
            if raw.META.get(key)
        }
        receipt = delivery_receive(
            source=source,
            body=body,
            channel="webhook",
            then=Then.CHECK_AND_QUEUE,
            external_id=sender_delivery_id(raw.META),
            content_type=raw.META.get("CONTENT_TYPE", ""),
            headers={**headers, **credential.as_headers()},  # what it may speak as
            image_hint=image_hint_of(request),
            outage=cache_down,  # the database failed this very request (its cache table)?
        )
        if receipt.delivery is not None:
            spool_replay_soon()
        return receipt_answer(receipt)


def redact_path_secret(request: HttpRequest) -> None:
    """Take the secret out of the request's path, in any spelling, before anything logs
    it: Django's ``django.request`` logger names the path of every 4xx/5xx answer (and
    error mails carry PATH_INFO and the server's raw URI)."""
    for name in ("path", "path_info"):
        setattr(request, name, redact_text(getattr(request, name)))
    for key in ("PATH_INFO", "RAW_URI", "REQUEST_URI"):
        if isinstance(request.META.get(key), str):
            request.META[key] = redact_text(request.META[key])


@webhook_secret_path_schema
class WebhookSecretPathApi(WebhookApi):
    """The same receiver, with the secret in the URL for senders that cannot set headers."""

    def dispatch(self, request, *args, **kwargs):
        redact_path_secret(request)
        return super().dispatch(request, *args, **kwargs)


# Also accept the URLs without their trailing slash (a POST cannot follow a redirect).
@extend_schema(exclude=True)
class WebhookNoSlashApi(WebhookApi):
    pass


@extend_schema(exclude=True)
class WebhookSecretNoSlashApi(WebhookSecretPathApi):
    pass
