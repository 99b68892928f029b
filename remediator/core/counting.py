"""How many rows a list has, at a cost that does not grow with the table.

Rows are counted exactly up to ``EXACT_UP_TO`` (``COUNT(*)`` over a ``LIMIT``ed
subquery: it stops reading there). Past that, PostgreSQL's planner says about how many
(``EXPLAIN (FORMAT JSON)``: the statistics ANALYZE keeps, no rows read), shown as
"about N"; other databases say "more than N".
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.db import DatabaseError, connections
from django.db.models import QuerySet

log = logging.getLogger(__name__)

EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class ListCount:
    """A list's size: ``value`` exactly, or about (``estimated``), or at least
    (``at_least``: more than ``value - 1``)."""

    value: int
    estimated: bool = False
    at_least: bool = False

    @property
    def exact(self) -> bool:
        return not (self.estimated or self.at_least)

    def __str__(self) -> str:
        if self.at_least:
            return f"more than {self.value - 1:,}"
        return f"about {_round(self.value):,}" if self.estimated else f"{self.value:,}"


def _round(value: int) -> int:
    """Two significant figures: an estimate claims no more."""
    digits = len(str(value))
    if digits <= 2:
        return value
    scale = 10 ** (digits - 2)
    return round(value / scale) * scale


def planner_estimate(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of ``queryset``'s rows; None elsewhere or when it cannot say."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
    except DatabaseError as exc:
        log.warning("no planner estimate: %r", str(exc))
        return None
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def list_count(queryset: QuerySet, *, exact_up_to: int = EXACT_UP_TO) -> ListCount:
    """``queryset``'s size: exact when it is at most ``exact_up_to`` rows, else estimated."""
    counted = queryset.order_by().values("pk")[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return ListCount(counted)
    estimate = planner_estimate(queryset)
    if estimate is None or estimate <= exact_up_to:
        return ListCount(exact_up_to + 1, at_least=True)
    return ListCount(estimate, estimated=True)
