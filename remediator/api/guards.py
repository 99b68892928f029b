"""A guard for Django's admin: query values and object ids go to the database as they
come there, and PostgreSQL refuses text holding NUL (a 500). Admin requests holding
one are refused with 400. The API and the pages check their own inputs (forms,
filters, cursors), and a webhook keeps its body even when ``?image=`` holds NUL."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

ADMIN_PREFIX = "/admin/"


class AdminNulGuard:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(ADMIN_PREFIX) and _holds_nul(request):
            return HttpResponseBadRequest(
                "A NUL character in the address or the query string is not accepted.",
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path_info:
        return True
    return any("\x00" in key or "\x00" in value for key, value in request.GET.items())
