"""What every dashboard page shares: permission checks, and how a list page filters and
pages its rows.

A list page binds its list's FilterSet (the one its API list uses) as a page does: an
empty field is "not given", the page's defaults fill what is absent, and a value that
is not one shows the form's error and no rows. It pages with the keyset helper
(``remediator.core.keyset``): the "next" link carries the last row's position in
``?after=``, a cursor of the same shape as the API's ``cursor``; one the helper did
not make (tampered, truncated) shows the first page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict

from findings.selectors.scope import visible
from remediator.core import keyset
from remediator.core.counting import ListCount, list_count
from remediator.core.filtering import ListFilterSet

PAGE_SIZE = 50
AFTER = "after"
"""The query parameter of a page's position."""


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


def list_filter(
    request: HttpRequest, filterset_class: type[ListFilterSet], queryset: QuerySet
) -> tuple[ListFilterSet, QuerySet]:
    """The list's FilterSet bound as a page binds it, and the rows it lets through (none
    when a value is not one: the form says why) of those the person may see."""
    queryset = visible(queryset, request.user)
    filterset = filterset_class(request.GET, queryset=queryset, request=request, page=True)
    return filterset, (filterset.qs if filterset.is_valid() else queryset.none())


@dataclass
class ListPage:
    rows: list
    next_url: str
    first_url: str
    is_first: bool
    total: ListCount | None = None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def keyset_page(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    keys: Sequence[str],
    size: int = PAGE_SIZE,
    count: bool = True,
) -> ListPage:
    """One page of ``queryset`` ordered by ``keys``, starting after ``?after=``, and how
    many rows the list has (``remediator.core.counting``: exact when small)."""
    token = request.GET.get(AFTER, "")
    cursor = None
    if token:
        try:
            cursor = keyset.decode_cursor(token, keyset.key_fields(queryset, keys))
        except keyset.InvalidCursor:
            cursor = None
    page = keyset.keyset_page(queryset, keys=keys, size=size, cursor=cursor)
    params: QueryDict = request.GET.copy()
    params.pop(AFTER, None)
    first_url = "?" + params.urlencode()
    next_url = ""
    if page.next is not None:
        params[AFTER] = keyset.encode_cursor(page.next)
        next_url = "?" + params.urlencode()
    return ListPage(
        rows=page.rows,
        next_url=next_url,
        first_url=first_url,
        is_first=cursor is None,
        total=list_count(queryset) if count else None,
    )


@dataclass(frozen=True)
class SortHeader:
    """A column header that sorts the list: its link, and the order it shows now."""

    label: str
    url: str
    direction: str  # "ascending", "descending" or "" (not sorted by this column)


def sort_headers(
    request: HttpRequest, filterset: ListFilterSet, columns: dict[str, str], *, default: str
) -> dict[str, SortHeader]:
    """Per sortable column (``columns``: column name -> its order's name) its header: a
    link to that order, or to its reverse when the list is in that order already."""
    current, orderings = filterset.sort_state(default)
    headers = {}
    for column, sort in columns.items():
        descending = orderings[sort][0].startswith("-")
        if current == sort:
            target, direction = f"-{sort}", "descending" if descending else "ascending"
        elif current == f"-{sort}":
            target, direction = sort, "ascending" if descending else "descending"
        else:
            target, direction = sort, ""
        params = request.GET.copy()
        params.pop(AFTER, None)
        params["sort"] = target
        headers[column] = SortHeader(column, "?" + params.urlencode(), direction)
    return headers


def query_without(request: HttpRequest, *names: str) -> str:
    """The current query string less ``names`` (for links that change one filter)."""
    params = request.GET.copy()
    for name in (AFTER, *names):
        params.pop(name, None)
    return params.urlencode()
