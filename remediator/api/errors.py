"""One error shape for every endpoint here: ``{"error": "<code>", "detail": "<why>"}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApiError(Exception):
    """Raise from a view to answer ``status`` with ``{"error": code, "detail": detail}``."""

    def __init__(self, status_code: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.code = code
        self.detail = detail


def error_response(status_code: int, code: str, detail: object, **headers: str) -> Response:
    response = Response({"error": code, "detail": detail}, status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


def flat_detail(detail: object) -> str:
    """DRF's nested error detail as one line: ``"since: Enter a valid date/time."``."""
    if isinstance(detail, dict):
        return "; ".join(f"{name}: {flat_detail(value)}" for name, value in detail.items())
    if isinstance(detail, list | tuple):
        return " ".join(flat_detail(item) for item in detail)
    return str(detail)


def _detail(exc: exceptions.APIException) -> str:
    return flat_detail(exc.detail)


def error_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, reshaped to our error body; ApiError answered as raised."""
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = exc.get_codes() if not isinstance(exc.detail, str) else exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
    elif not isinstance(code, str):
        code = exc.default_code
    response.data = {"error": code, "detail": _detail(exc)}
    return response


class ErrorShapeMixin:
    """Use on an APIView so that its errors come out as ``{"error", "detail"}``."""

    def get_exception_handler(self):
        return error_exception_handler
