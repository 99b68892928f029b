"""Keyset pagination, for every list: the dashboard's pages and the API alike.

A page is "the next N rows after this position" in a fixed order, so the database
walks an index from the position: no OFFSET and no COUNT over the table, and a deep
page costs what the first one does. The position is the last row's values of every
ordering key (a unique key last), carried in a cursor.

A cursor is base64 text (standard alphabet, padded) of a query string, the shape of
Django REST framework's cursors, so the API's documented ``cursor`` (base64, made by
the API) and the pages' ``?after=`` are the same thing:

- ``p=<value>``, once per ordering key, in order: the position;
- ``r=1``: the rows *before* the position (a "previous" link);
- ``o=<n>``: skip n more rows, only in cursors DRF's CursorPagination made (a single
  ``p`` for the first key); they keep working as they did, the offset capped at 1000.

A cursor this code did not make (not base64, wrong count, a value the column could not
hold: a 30-digit id, text for an id, NUL) raises ``InvalidCursor``: the API answers
400, a page shows its first page.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode, b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.db import connection, models
from django.db.models import Q, QuerySet

from remediator.core.storable import is_bigint, is_storable_text

MAX_CURSOR = 1000
"""Longest cursor accepted (characters of base64)."""
OFFSET_CUTOFF = 1000
"""Largest offset a DRF-made cursor may ask for (DRF's own ``offset_cutoff``)."""
CURSOR_PATTERN = rf"^[A-Za-z0-9+/=]{{1,{MAX_CURSOR}}}$"
_CURSOR = re.compile(CURSOR_PATTERN)
_WHOLE = re.compile(r"-?[0-9]{1,19}")
_COUNT = re.compile(r"[0-9]+")


class InvalidCursor(ValueError):
    """A cursor this code did not make."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after ``position`` (before it when ``reverse``)."""

    position: tuple[Any, ...] | None = None
    reverse: bool = False
    offset: int = 0

    @property
    def is_first(self) -> bool:
        """The first page: a link to it carries no cursor."""
        return self.position is None and not self.reverse and not self.offset


@dataclass
class KeysetPage:
    """One page of rows, and the cursors of the pages after and before it."""

    rows: list
    next: Cursor | None
    previous: Cursor | None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def encode_cursor(cursor: Cursor) -> str:
    """The cursor as base64 text (see the module's docstring)."""
    tokens: list[tuple[str, str]] = []
    if cursor.offset:
        tokens.append(("o", str(cursor.offset)))
    if cursor.reverse:
        tokens.append(("r", "1"))
    tokens += [("p", str(value)) for value in cursor.position or ()]
    return b64encode(urlencode(tokens).encode("ascii")).decode("ascii")


def decode_cursor(token: str, fields: Sequence[models.Field]) -> Cursor:
    """The cursor in ``token`` for a list ordered by keys of ``fields``; InvalidCursor
    unless every position value fits its column."""
    if not _CURSOR.fullmatch(token):
        raise InvalidCursor("not base64 text")
    try:
        text = b64decode(token, validate=True).decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("not a cursor") from None
    values = [value for name, value in pairs if name == "p"]
    options = {name: value for name, value in pairs if name != "p"}
    if set(options) - {"o", "r"} or len(values) > len(fields):
        raise InvalidCursor("not a cursor of this list")
    offset, reverse = options.get("o", "0"), options.get("r", "0")
    if not _COUNT.fullmatch(offset) or reverse not in ("0", "1"):
        raise InvalidCursor("not a cursor")
    position = tuple(_value(field, value) for field, value in zip(fields, values, strict=False))
    return Cursor(
        position=position or None,
        reverse=reverse == "1",
        offset=min(int(offset), OFFSET_CUTOFF),
    )


def _value(field: models.Field, text: str) -> Any:
    """``text`` as a value of ``field``'s column, or InvalidCursor."""
    if isinstance(field, models.IntegerField):  # ids and ranks (AutoField is one too)
        if not _WHOLE.fullmatch(text) or not is_bigint(int(text)):
            raise InvalidCursor("a position is not an id")
        return int(text)
    if isinstance(field, models.CharField | models.TextField):
        limit = field.max_length or MAX_CURSOR
        if len(text) > limit or not is_storable_text(text):
            raise InvalidCursor("a position is not a name")
        return text
    raise InvalidCursor("this list cannot be paged by cursor")


def key_fields(queryset: QuerySet, keys: Sequence[str]) -> list[models.Field]:
    """The model field of each key; an integer for an annotated one (rank annotations
    are whole numbers for this reason)."""
    fields = []
    for key in keys:
        name = key.lstrip("-")
        if name in queryset.query.annotations:
            fields.append(models.BigIntegerField())
        else:
            fields.append(queryset.model._meta.get_field(name))
    return fields


def _flip(key: str) -> str:
    return key[1:] if key.startswith("-") else f"-{key}"


def _after(keys: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the order ``keys`` ("-a" descending)."""
    condition = Q()
    for index, key in enumerate(keys):
        op = "lt" if key.startswith("-") else "gt"
        step = Q(**{f"{key.lstrip('-')}__{op}": values[index]})
        for prior, prior_key in enumerate(keys[:index]):
            step &= Q(**{prior_key.lstrip("-"): values[prior]})
        condition |= step
    return condition


def _after_rows(queryset: QuerySet, keys: Sequence[str], values: Sequence[Any]) -> QuerySet:
    """Rows after ``values``. When every key runs the same way this is one row-value
    comparison, ``(a, b) < (%s, %s)``, which PostgreSQL and SQLite answer as an index
    range: a deep page costs what the first one does."""
    descending = {key.startswith("-") for key in keys}
    annotated = any(key.lstrip("-") in queryset.query.annotations for key in keys)
    if len(descending) != 1 or annotated:  # an annotation has no column to compare
        return queryset.filter(_after(keys, values))
    meta = queryset.model._meta
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"{quote(meta.db_table)}.{quote(meta.get_field(k.lstrip('-')).column)}" for k in keys
    )
    op = "<" if descending.pop() else ">"
    marks = ", ".join(["%s"] * len(keys))
    return queryset.extra(where=[f"({columns}) {op} ({marks})"], params=list(values))


def _position(row: Any, keys: Sequence[str]) -> tuple[Any, ...]:
    names = [key.lstrip("-") for key in keys]
    if isinstance(row, dict):
        return tuple(row[name] for name in names)
    return tuple(getattr(row, name) for name in names)


def keyset_page(
    queryset: QuerySet, *, keys: Sequence[str], size: int, cursor: Cursor | None = None
) -> KeysetPage:
    """One page of ``queryset`` in the order ``keys`` (a unique key last), from ``cursor``
    (None: the first page)."""
    cursor = cursor or Cursor()
    order = [_flip(key) for key in keys] if cursor.reverse else list(keys)
    queryset = queryset.order_by(*order)
    position = cursor.position
    if position is not None and len(position) == len(keys):
        queryset = _after_rows(queryset, order, position)
    elif position is not None:  # a DRF cursor: the first key only, then its offset
        op = "lt" if order[0].startswith("-") else "gt"
        queryset = queryset.filter(**{f"{order[0].lstrip('-')}__{op}": position[0]})
    start = cursor.offset
    fetched = list(queryset[start : start + size + 1])
    rows, more = fetched[:size], len(fetched) > size
    started = position is not None or start > 0
    if cursor.reverse:
        rows.reverse()
        after, before = started, more
    else:
        after, before = more, started
    next_cursor = Cursor(_position(rows[-1], keys)) if after and rows else None
    previous = Cursor(_position(rows[0], keys), reverse=True) if before and rows else None
    if not rows and started:  # past either end: back to the first or the last page
        next_cursor, previous = (Cursor(), None) if cursor.reverse else (None, Cursor(reverse=True))
    return KeysetPage(rows=rows, next=next_cursor, previous=previous)
