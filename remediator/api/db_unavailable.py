"""``/api/``: a database that is down answers a JSON 503 with Retry-After, never an HTML 500.

A middleware (``process_exception``), so that it covers every API view without each
one knowing: DRF re-raises exceptions it does not handle, and this turns Django's
``OperationalError`` / ``InterfaceError`` (connection refused, server restarting,
connection lost mid-request) into ``503 {"error": "unavailable", "detail": ...}``
with ``Retry-After: WEBHOOK_RETRY_AFTER``. Webhook bodies do not get here: the
receiver spools them (``remediator/intake/receive.py``).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from remediator.intake.spool import DATABASE_DOWN

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not isinstance(exception, DATABASE_DOWN) or not request.path.startswith("/api/"):
            return None
        logger.warning("%s %s: database unavailable: %r", request.method, request.path, exception)
        response = JsonResponse(
            {"error": "unavailable", "detail": "the database is unavailable; try again later"},
            status=503,
        )
        response["Retry-After"] = str(settings.WEBHOOK_RETRY_AFTER)
        return response
