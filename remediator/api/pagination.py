"""Pages of the read API: the one keyset helper (``remediator.core.keyset``) behind DRF.

``?cursor=`` is the ``next`` or ``previous`` link's cursor; one this API did not make
(not base64, a position its order's columns could not hold: ``p=abc``, ``p=1e99``, an
id of 30 digits) is a 400. Cursors made before, by DRF's CursorPagination, still work.
``?page_size=`` is a preference: anything but a whole number means the default, more
than ``max_page_size`` means that many, and the schema says so (a string).

A list is ordered by its view's ``keyset_keys`` when it sets them (the findings list
takes its order from its filters), else by the class's ``keys``.
"""

from __future__ import annotations

import contextlib

from rest_framework.pagination import BasePagination, CursorPagination, _positive_int
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import remove_query_param, replace_query_param

from remediator.core.keyset import (
    CURSOR_PATTERN,
    Cursor,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    key_fields,
    keyset_page,
)

from .errors import ApiError


def _invalid() -> ApiError:
    return ApiError(400, "invalid_cursor", "the cursor is not one this API made; start over")


class NewestFirst(BasePagination):
    """Pages of a list ordered by its integer ``id``, newest first; ``?page_size=`` up to 500."""

    keys: tuple[str, ...] = ("-id",)
    cursor_query_param = "cursor"
    page_size = api_settings.PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None) -> list:
        self.base_url = request.build_absolute_uri()
        keys = getattr(view, "keyset_keys", None) or self.keys
        token = request.query_params.get(self.cursor_query_param)
        cursor = None
        if token is not None:
            try:
                cursor = decode_cursor(token, key_fields(queryset, keys))
            except InvalidCursor:
                raise _invalid() from None
        self.page = keyset_page(
            queryset, keys=keys, size=self.get_page_size(request), cursor=cursor
        )
        return self.page.rows

    def get_page_size(self, request) -> int:
        with contextlib.suppress(KeyError, ValueError):
            return _positive_int(
                request.query_params[self.page_size_query_param],
                strict=True,
                cutoff=self.max_page_size,
            )
        return self.page_size

    def _link(self, cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        if cursor.is_first:
            return remove_query_param(self.base_url, self.cursor_query_param)
        return replace_query_param(self.base_url, self.cursor_query_param, encode_cursor(cursor))

    def get_next_link(self) -> str | None:
        return self._link(self.page.next)

    def get_previous_link(self) -> str | None:
        return self._link(self.page.previous)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return CursorPagination.get_paginated_response_schema(self, schema)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The `next` or `previous` link's cursor: opaque, base64.",
                "schema": {"type": "string", "format": "cursor", "pattern": CURSOR_PATTERN},
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


class ByTextId(NewestFirst):
    """Pages of a list ordered by a text primary key (vulnerability ids)."""

    keys = ("id",)
