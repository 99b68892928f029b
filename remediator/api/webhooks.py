"""``POST /api/v1/webhooks/<source>/[<secret>/]``: store the body, validate it, queue it.

Order: known source -> rate limit (429) -> credentials (header or URL secret) -> size while reading
-> signature (when that is the credential) -> store the Delivery -> duplicate?
-> decode (400) -> recognise format and image (422) -> 202 and a Celery task.
Recognising means parsing the whole report, so it is done at post time only for bodies
up to WEBHOOK_CHECK_MAX_BYTES (a few milliseconds); a larger body is answered 202 once it
is stored and well-formed JSON, and the worker rejects it if it is no usable report: the
rejection shows at its delivery URL, in /api/v1/deliveries/, on the dashboard and in the
deliveries-by-status metric (a burst of 2 MB reports is acknowledged in well
under a second).
Bodies that fail authentication or the size check are never stored; bodies
that fail decoding or recognition are kept as rejected deliveries. When the
database cannot store a body it is spooled to disk and answered 202 (or 503 when
even that fails): see ``webhook_spool.py``. Nothing before the store touches the
database (authentication reads secrets from the environment).
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

from findings.deliveries import (
    delivery_enqueue_on_commit,
    delivery_reject,
    delivery_run,
    delivery_store,
    resolve_image,
)
from findings.models import Delivery
from findings.parsers import MULTI_IMAGE, SOURCES, load_body, parse_all
from findings.parsers.base import ParseError
from remediator.core.redact import redact_text
from remediator.core.storable import is_storable_text
from remediator.integrations.harbor.events import COMPLETED, harbor_event_parse, is_harbor_event

from .errors import ApiError, ErrorShapeMixin
from .rate_limit import webhook_rate_check
from .request_body import read_body
from .schema import webhook_schema, webhook_secret_path_schema
from .webhook_auth import authenticate_before_body, authenticate_signature, refuse_query_secret
from .webhook_spool import DATABASE_DOWN, spool_answer, spool_replay_soon

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


def sender_delivery_id(meta: dict, document: object) -> str:
    """The sender's own id: webhook-id, X-GitHub-Delivery, or the CloudEvents id."""
    for header in ("HTTP_WEBHOOK_ID", "HTTP_X_GITHUB_DELIVERY", "HTTP_CE_ID"):
        if meta.get(header):
            return str(meta[header]).strip()
    if isinstance(document, dict) and "specversion" in document:
        event_id = document.get("id")
        if isinstance(event_id, str | int) and str(event_id).strip():
            return str(event_id).strip()
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


def _reject(delivery: Delivery, code: int, error: str, detail: str) -> ApiError:
    delivery_reject(delivery=delivery, reason=detail)
    return ApiError(code, error, detail)


def _check(delivery: Delivery, source: str, document: object, image_hint: str) -> str:
    """Recognise the body; returns the Harbor event kind, or '' for a report."""
    if source in ("harbor", "auto") and is_harbor_event(document):
        try:
            return harbor_event_parse(document).kind or "other"
        except ParseError as exc:
            raise _reject(delivery, 422, "invalid_event", str(exc)) from None
    try:
        scans = parse_all(source, document)
    except ParseError as exc:
        raise _reject(delivery, 422, "unknown_format", str(exc)) from None
    if len(scans) != 1 or scans[0].source in MULTI_IMAGE:
        return ""  # one scan per image, each naming its image
    try:
        resolve_image(scans[0], image_hint)
    except ParseError as exc:
        raise _reject(delivery, 422, "no_image", str(exc)) from None
    return ""


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
        body = read_body(raw, settings.INGEST_MAX_BYTES)
        if credential is None:
            credential = authenticate_signature(raw.META, source, body)
        try:
            document, load_error = load_body(source, body), None
        except ParseError as exc:
            document, load_error = None, exc
        image_hint = image_hint_of(request)
        headers = {
            name: str(raw.META[key])[:300]
            for key, name in KEPT_HEADERS.items()
            if raw.META.get(key)
        }
        fields = dict(
            source=source,
            body=body,
            external_id=sender_delivery_id(raw.META, document),
            content_type=raw.META.get("CONTENT_TYPE", ""),
            headers={**headers, **credential.as_headers()},  # what it may speak as
            image_hint=image_hint,
            channel="webhook",
        )
        if isinstance(cache_down, DATABASE_DOWN):  # the database failed this very request
            return spool_answer(fields, cache_down)  # (its cache table): one wait, not two
        try:
            delivery, created = delivery_store(**fields)
        except DATABASE_DOWN as exc:  # nothing lost: on disk, replayed later (webhook_spool.py)
            return spool_answer(fields, exc)
        spool_replay_soon()
        try:
            return self._accepted(
                delivery, created, source, document, load_error, image_hint, len(body)
            )
        except DATABASE_DOWN:  # stored and queued: the delivery sweep hands it to a worker
            return answer(delivery, status.HTTP_202_ACCEPTED)

    def _accepted(
        self, delivery, created, source, document, load_error, image_hint, size
    ) -> Response:
        if not created:
            return answer(delivery, status.HTTP_200_OK, duplicate=True, detail=delivery.error)
        if not is_storable_text(image_hint):
            raise _reject(
                delivery, 400, "invalid_parameter", "?image= (or X-Remediator-Image) holds a NUL"
            )
        if load_error is not None:
            raise _reject(delivery, 400, "invalid_body", str(load_error))
        kind = ""
        if size <= settings.WEBHOOK_CHECK_MAX_BYTES or is_harbor_event(document):
            kind = _check(delivery, source, document, delivery.image_hint)
        if kind and kind != COMPLETED:
            delivery_run(delivery=delivery)  # failed/stopped/other events: recorded, no I/O
            return answer(delivery, status.HTTP_200_OK, detail=delivery.error)
        delivery_enqueue_on_commit(delivery_id=delivery.pk)
        return answer(delivery, status.HTTP_202_ACCEPTED)


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
