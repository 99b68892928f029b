"""Cursor pagination of the read API, refusing cursors it did not make.

DRF decodes the cursor's base64 and query string but leaves the position as
text for the ORM, where ``?cursor=`` tampered to ``p=abc`` or ``p=1e99`` raised
a 500. Here the position must be an id the ordering column can hold, else 400.
"""

from __future__ import annotations

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

from findings.threat_intel.queries import ORDERINGS as RANKED
from remediator.core.storable import is_bigint, is_storable_text

from .errors import ApiError

_ID = re.compile(r"-?[0-9]{1,19}")
_BASE64 = re.compile(r"[A-Za-z0-9+/=]{1,1000}")


def _invalid() -> ApiError:
    return ApiError(400, "invalid_cursor", "the cursor is not one this API made; start over")


class NewestFirst(CursorPagination):
    """Pages of a list ordered by its integer ``id``, newest first; ``?page_size=`` up to 500."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def check_position(self, text: str) -> None:
        """ApiError(400) unless the ordering column could hold ``text``."""
        if not _ID.fullmatch(text) or not is_bigint(int(text)):
            raise _invalid()

    def decode_cursor(self, request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not _BASE64.fullmatch(encoded):
            raise _invalid()  # DRF's decoder skips what is not base64, so '%%%' was page one
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise _invalid() from None
        if cursor is not None and cursor.position is not None:
            self.check_position(cursor.position)
        return cursor


class ByTextId(NewestFirst):
    """Pages of a list ordered by a text primary key (vulnerability ids)."""

    ordering = "id"
    max_id_length = 100

    def check_position(self, text: str) -> None:
        if len(text) > self.max_id_length or not is_storable_text(text):
            raise _invalid()


class FindingsOrdered(NewestFirst):
    """Findings newest first, or by ``?ordering=risk`` (KEV, then EPSS, then severity) or
    ``?ordering=epss`` (highest first); the view annotates the ranks these need
    (``findings.threat_intel.queries``)."""

    ORDERINGS = {"newest": ("-id",), "risk": RANKED["risk"], "epss": RANKED["epss"]}

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        choice = request.query_params.get("ordering", "newest")
        if choice not in self.ORDERINGS:
            raise ApiError(
                400, "invalid_ordering", f"ordering must be one of {', '.join(self.ORDERINGS)}"
            )
        return self.ORDERINGS[choice]

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "ordering",
                "required": False,
                "in": "query",
                "description": "newest (default); risk: KEV first, then EPSS, then severity; "
                "epss: highest EPSS first",
                "schema": {"type": "string", "enum": list(self.ORDERINGS)},
            },
        ]
