"""Error pages: JSON under /api/ (the ``{"error", "detail"}`` shape), HTML elsewhere.

Django answers a URL no route matches (``/api/v1/findings/abc/``), a crash and
a ``SuspiciousOperation`` outside any DRF view itself; these handlers keep
those answers in the API's shape. Wired in ``remediator.urls`` (handler400..500).
"""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_json(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.bad_request(request, exception)
    detail = str(exception) if isinstance(exception, BadRequest) else "the request is malformed"
    return error_json(400, "bad_request", detail or "the request is malformed")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return error_json(403, "permission_denied", "you may not do this")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return error_json(404, "not_found", "no such API resource (ids are numbers; see /api/v1/docs/)")


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request)
    return error_json(500, "server_error", "the server failed; the error is logged")
