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

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from findings.models import RunningImage
from findings.parsers.base import ParseError
from findings.parsers.jsonload import load_json
from remediator.cluster.inventory import inventory_record
from remediator.cluster.pods import (
    MAX_DEPTH,
    PodListInvalid,
    PodListTooLarge,
    pods_running,
    row_problem,
)
from remediator.core.secrets import read_secret
from remediator.engine.admission.review import ReviewInvalid
from remediator.engine.admission.service import admission_review

from .errors import ApiError
from .request_body import read_body

MAX_CLUSTER = 200
MAX_PROBLEMS = 20
"""Refused containers named in an inventory push's answer (all are counted)."""


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _refused(request: HttpRequest) -> JsonResponse | None:
    """None when the caller may post; else the 405/401/403 answer (never echoing a token)."""
    if request.method != "POST":
        refused = _error(405, "method_not_allowed", "POST a JSON body to this URL")
        refused["Allow"] = "POST"
        return refused
    token = read_secret("ADMISSION_TOKEN", required=False)
    if not token:
        if settings.ADMISSION_ALLOW_UNAUTHENTICATED:
            return None
        return _error(403, "forbidden", "set ADMISSION_TOKEN (see docs/admission.md: In a cluster)")
    scheme, _, offered = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(offered.strip().encode(), token.encode()):
        return None
    return _error(401, "unauthorized", "send Authorization: Bearer <ADMISSION_TOKEN>")


def _json(request: HttpRequest, limit: int, setting: str) -> object:
    """The body decoded: at most ``limit`` bytes (413 naming ``setting``), JSON nested at
    most MAX_DEPTH levels (400 ``too_deep``)."""
    body = read_body(request, limit, setting)
    if not body:
        raise ApiError(400, "invalid_body", "the body is empty: expected JSON")
    try:
        return load_json(body, max_depth=MAX_DEPTH)
    except ParseError as exc:
        detail = str(exc)
        code = "too_deep" if detail.startswith("JSON nested deeper") else "invalid_json"
        raise ApiError(400, code, detail[:300]) from None


def _cluster(value: str) -> str:
    if len(value) > MAX_CLUSTER or any(not ch.isprintable() for ch in value):
        raise ApiError(
            400, "invalid_cluster", f"cluster: at most {MAX_CLUSTER} printable characters"
        )
    return value


@csrf_exempt
def admission_validate(request: HttpRequest, cluster: str = "") -> JsonResponse:
    """POST an AdmissionReview (admission.k8s.io/v1), get one back."""
    refused = _refused(request)
    if refused is not None:
        return refused
    try:
        body = _json(request, settings.ADMISSION_MAX_BYTES, "ADMISSION_MAX_BYTES")
        answer = admission_review(
            body, cluster=_cluster(cluster or settings.ADMISSION_CLUSTER_NAME)
        )
    except ApiError as exc:
        return _error(exc.status_code, exc.code, exc.detail)
    except ReviewInvalid as exc:
        return _error(400, "invalid_review", str(exc))
    return JsonResponse(answer)


@csrf_exempt
def inventory_push(request: HttpRequest) -> JsonResponse:
    """POST ``kubectl get pods -A -o json`` (``?cluster=<name>``): record what runs where."""
    refused = _refused(request)
    if refused is not None:
        return refused
    try:
        cluster = _cluster(request.GET.get("cluster", ""))
        rows = pods_running(
            _json(request, settings.INVENTORY_MAX_BYTES, "INVENTORY_MAX_BYTES"),
            cluster=cluster,
            max_pods=settings.INVENTORY_MAX_PODS,
        )
    except ApiError as exc:
        return _error(exc.status_code, exc.code, exc.detail)
    except PodListTooLarge as exc:
        return _error(413, "too_many_pods", str(exc))
    except PodListInvalid as exc:
        return _error(400, "invalid_pod_list", str(exc))
    kept, refused = [], []
    for row in rows:
        problem = row_problem(row)
        if problem:
            refused.append({"namespace": row.namespace, "name": row.name, "problem": problem})
        else:
            kept.append(row)
    recorded = inventory_record(kept, source=RunningImage.Source.INVENTORY)
    answer = {"cluster": cluster, "containers": recorded, "refused": len(refused)}
    if refused:
        answer["problems"] = refused[:MAX_PROBLEMS]
    return JsonResponse(answer, status=200)
