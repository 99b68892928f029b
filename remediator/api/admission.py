"""The Kubernetes side: the validating admission webhook and the inventory push.

Plain Django views (no session, no CSRF, no DRF negotiation: the API server waits on
every answer). Both need ``Authorization: Bearer <ADMISSION_TOKEN>`` — the token the
cluster's kube-apiserver (admission kubeconfig) or inventory CronJob sends — and answer
403 while none is set, unless ADMISSION_ALLOW_UNAUTHENTICATED says a proxy in front
checks client certificates. Bad input gets 4xx ``{"error", "detail"}``; a well-formed
AdmissionReview always gets a well-formed AdmissionReview back.
"""

from __future__ import annotations

import hmac

import msgspec
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from findings.inventory import inventory_record
from findings.models import RunningImage
from findings.pods import PodListInvalid, pods_running
from remediator.core.secrets import read_secret
from remediator.engine.admission.review import ReviewInvalid
from remediator.engine.admission.service import admission_review

from .errors import ApiError
from .request_body import read_body

_decoder = msgspec.json.Decoder()
MAX_CLUSTER = 200


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _refused(request: HttpRequest) -> JsonResponse | None:
    """None when the caller may post; else the 401/403 answer (never echoing a token)."""
    token = read_secret("ADMISSION_TOKEN", required=False)
    if not token:
        if settings.ADMISSION_ALLOW_UNAUTHENTICATED:
            return None
        return _error(403, "forbidden", "set ADMISSION_TOKEN (see README: Admission control)")
    scheme, _, offered = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
        return None
    return _error(401, "unauthorized", "send Authorization: Bearer <ADMISSION_TOKEN>")


def _json(request: HttpRequest, limit: int) -> object:
    body = read_body(request, limit)
    if not body:
        raise ApiError(400, "invalid_body", "the body is empty: expected JSON")
    try:
        return _decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not JSON: {exc}"[:300]) from None


def _cluster(value: str) -> str:
    if len(value) > MAX_CLUSTER or any(not ch.isprintable() for ch in value):
        raise ApiError(
            400, "invalid_cluster", f"cluster: at most {MAX_CLUSTER} printable characters"
        )
    return value


@csrf_exempt
@require_POST
def admission_validate(request: HttpRequest, cluster: str = "") -> JsonResponse:
    """POST an AdmissionReview (admission.k8s.io/v1), get one back."""
    refused = _refused(request)
    if refused is not None:
        return refused
    try:
        body = _json(request, settings.ADMISSION_MAX_BYTES)
        answer = admission_review(
            body, cluster=_cluster(cluster or settings.ADMISSION_CLUSTER_NAME)
        )
    except ApiError as exc:
        return _error(exc.status_code, exc.code, exc.detail)
    except ReviewInvalid as exc:
        return _error(400, "invalid_review", str(exc))
    return JsonResponse(answer)


@csrf_exempt
@require_POST
def inventory_push(request: HttpRequest) -> JsonResponse:
    """POST ``kubectl get pods -A -o json`` (``?cluster=<name>``): record what runs where."""
    refused = _refused(request)
    if refused is not None:
        return refused
    try:
        cluster = _cluster(request.GET.get("cluster", ""))
        rows = pods_running(_json(request, settings.INVENTORY_MAX_BYTES), cluster=cluster)
    except ApiError as exc:
        return _error(exc.status_code, exc.code, exc.detail)
    except PodListInvalid as exc:
        return _error(400, "invalid_pod_list", str(exc))
    recorded = inventory_record(rows, source=RunningImage.Source.INVENTORY)
    return JsonResponse({"cluster": cluster, "containers": recorded}, status=200)
