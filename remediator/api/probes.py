"""``GET /healthz`` and ``GET /readyz`` answered whatever ``Host`` the request names.

Kubernetes probes, container health checks and load balancers call a process by its
address (``Host: 10.1.2.3:8000``), which ALLOWED_HOSTS rightly refuses for every other
page (400). These two paths disclose nothing a host check protects: the middleware runs
first and answers them before ``CommonMiddleware`` validates the host.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from remediator.api import operability

_PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": operability.healthz,
    "/readyz": operability.readyz,
}


class ProbesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = _PROBES.get(request.path_info) if request.method == "GET" else None
        if probe is not None:
            return probe(request)
        return self.get_response(request)
