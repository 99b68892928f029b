"""What every dashboard page shares: permission checks and keyset pagination.

Keyset pagination: a page is "the next N rows after this key" in a fixed
order, so the database walks an index from the key; there is no OFFSET and
no COUNT over the table. The "next" link carries the last row's key; a key
that this page did not make (tampered, truncated) shows the first page.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict

from remediator.core.storable import is_bigint, is_storable_text

PAGE_SIZE = 50


def require_perm(*perms: str) -> Callable:
    """Login (redirect to /login/?next=) and every permission in ``perms`` (else 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.has_perms(perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


def _encode(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_TOKEN = 2048


def _fits(field: models.Field, value: object) -> bool:
    """Whether ``value`` can be compared with ``field``'s column by the database."""
    if isinstance(value, bool):
        return False
    if isinstance(field, models.IntegerField):  # ids, ranks (AutoField is one too)
        return isinstance(value, int) and is_bigint(value)
    if isinstance(field, models.CharField | models.TextField):
        limit = field.max_length or MAX_TOKEN
        return isinstance(value, str) and len(value) <= limit and is_storable_text(value)
    return False


def _decode(token: str, fields: Sequence[models.Field]) -> list[Any] | None:
    """The key values in a ``?after=`` token; None (so: the first page) for any token
    this page did not make: not base64 JSON, wrong count, or values that do not fit
    the columns (a 30-digit id, text for an id, NUL)."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != len(fields):
        return None
    if not all(_fits(field, value) for field, value in zip(fields, values, strict=True)):
        return None
    return values


def _after(keys: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the order ``keys`` ("-a" descending)."""
    condition = Q()
    for index, key in enumerate(keys):
        name = key.lstrip("-")
        op = "lt" if key.startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": values[index]})
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


@dataclass
class KeysetPage:
    rows: list
    next_url: str
    first_url: str
    is_first: bool

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def keyset_page(
    request: HttpRequest, queryset: QuerySet, *, keys: Sequence[str], size: int = PAGE_SIZE
) -> KeysetPage:
    """One page of ``queryset`` ordered by ``keys``, starting after ``?after=``."""
    token = request.GET.get("after", "")
    fields = [_key_field(queryset, key.lstrip("-")) for key in keys]
    values = _decode(token, fields) if token else None
    queryset = queryset.order_by(*keys)
    if values is not None:
        queryset = _after_rows(queryset, keys, values)
    rows = list(queryset[: size + 1])
    params: QueryDict = request.GET.copy()
    params.pop("after", None)
    first_url = "?" + params.urlencode()
    next_url = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        params["after"] = _encode([_attr(last, k.lstrip("-")) for k in keys])
        next_url = "?" + params.urlencode()
    return KeysetPage(rows=rows, next_url=next_url, first_url=first_url, is_first=values is None)


def _key_field(queryset: QuerySet, name: str) -> models.Field:
    """The model field of a key, or an integer field for an annotated one (the ranks of
    ``findings.threat_intel.queries`` are whole numbers for this reason)."""
    if name in queryset.query.annotations:
        return models.BigIntegerField()
    return queryset.model._meta.get_field(name)


def _attr(row: Any, name: str) -> Any:
    value = row[name] if isinstance(row, dict) else getattr(row, name)
    return value if isinstance(value, int | str) else str(value)


def query_without(request: HttpRequest, *names: str) -> str:
    """The current query string less ``names`` (for links that change one filter)."""
    params = request.GET.copy()
    for name in ("after", *names):
        params.pop(name, None)
    return params.urlencode()
