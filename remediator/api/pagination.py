"""Cursor pagination of the read API, refusing cursors it did not make.

DRF decodes the cursor's base64 and query string but leaves the position as
text for the ORM, where ``?cursor=`` tampered to ``p=abc`` or ``p=1e99`` raised
a 500. Here the position must be an id the ordering column can hold, else 400.
``?page_size=`` is a preference: anything but a whole number means the default, more
than ``max_page_size`` means that many, and the schema says so (a string). The schema
documents the cursor's own shape (base64 text, format ``cursor``): what is not of that
shape is refused before decoding.
"""

from __future__ import annotations

import re

from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination

from findings.threat_intel.queries import ORDERINGS as RANKED
from remediator.core.storable import is_bigint, is_storable_text

from .errors import ApiError

_ID = re.compile(r"-?[0-9]{1,19}")
MAX_CURSOR = 1000
_BASE64 = re.compile(rf"[A-Za-z0-9+/=]{{1,{MAX_CURSOR}}}")


def _invalid() -> ApiError:
    return ApiError(400, "invalid_cursor", "the cursor is not one this API made; start over")


class NewestFirst(CursorPagination):
    """Pages of a list ordered by its integer ``id``, newest first; ``?page_size=`` up to 500."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The `next` or `previous` link's cursor: opaque, base64.",
                "schema": {
                    "type": "string",
                    "format": "cursor",
                    "pattern": f"^[A-Za-z0-9+/=]{{1,{MAX_CURSOR}}}$",
                },
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page: a whole number, at most "
                f"{self.max_page_size} (more is {self.max_page_size}); anything else means the "
                f"default, {self.page_size}. Lenient on purpose: a page size is a preference.",
                "schema": {"type": "string"},
            },
        ]

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
