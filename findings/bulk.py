"""Set-at-a-time writes from tuples: no model instance per row.

``rows_insert`` streams rows with PostgreSQL's COPY, elsewhere (SQLite) one
``executemany`` INSERT; ``rows_update`` is one ``executemany`` UPDATE by id. A row is a
tuple in ``columns`` order (a named row, ``findings.rows``: ``astuple(row)`` under its
type's ``__struct_fields__``). Values every row shares are given once, by column (``same``).
``in_ids`` matches a column against any number of values in one bound parameter
(``= ANY(array)`` on PostgreSQL, ``json_each`` on SQLite), so no statement
grows with a report and none meets SQLite's variable limit.
Values are given as Python values, JSON columns as text (``findings.rows.json_text``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import RawSQL

UNIQUE_VIOLATION = "23505"
"""PostgreSQL's SQLSTATE for a unique key taken."""


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def adapt_row(row: Iterable[object]) -> tuple:
    """A row as SQLite stores it: datetimes as Django writes them (PostgreSQL takes rows
    as they are). JSON columns are given as text already (``json_text``)."""
    adapt = connection.ops.adapt_datetimefield_value
    return tuple(adapt(v) if isinstance(v, datetime) else v for v in row)


def rows_insert(
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    same: Mapping[str, object] | None = None,
    skip_existing: bool = False,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; every row also
    takes the values of ``same`` ({column: value}).

    ``skip_existing``: rows whose unique key is taken (by a concurrent transaction too)
    are left out, ON CONFLICT DO NOTHING. Give them in the order of their unique key (the
    first column), so that two transactions inserting the same new keys wait on each
    other in one order and never deadlock. On PostgreSQL they are copied straight into
    the table under a savepoint (as is the rest), and only when a key is taken meanwhile
    copied again into a temporary table and inserted from it. Call it inside a
    transaction."""
    if same:
        shared = tuple(same.values())
        columns = (*columns, *same)
        rows = ((*row, *shared) for row in rows)
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if is_postgresql():
            if skip_existing:
                _copy_skipping(cursor, table, names, list(rows))
            else:
                _copy(cursor, quote(table), names, rows)
            return
        prepared = [adapt_row(row) for row in rows]
        if prepared:
            marks = ", ".join(["%s"] * len(columns))
            tail = " ON CONFLICT DO NOTHING" if skip_existing else ""
            cursor.executemany(
                f"INSERT INTO {quote(table)} ({names}) VALUES ({marks}){tail}", prepared
            )


def _copy(cursor: CursorWrapper, target: str, names: str, rows: Iterable[Sequence[object]]) -> None:
    with cursor.cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_skipping(
    cursor: CursorWrapper, table: str, names: str, rows: list[Sequence[object]]
) -> None:
    """COPY ``rows`` into ``table`` under a savepoint; when a concurrent transaction has
    taken one of their keys meanwhile, COPY them into a temporary table instead and
    insert from it, ON CONFLICT DO NOTHING."""
    quote = connection.ops.quote_name
    try:
        with transaction.atomic():
            _copy(cursor, quote(table), names, rows)
        return
    except connection.Database.IntegrityError as error:
        if error.sqlstate != UNIQUE_VIOLATION:
            raise
    target = quote(f"_bulk_{table}")
    cursor.execute(f"DROP TABLE IF EXISTS {target}")
    cursor.execute(
        f"CREATE TEMP TABLE {target} ON COMMIT DROP AS "
        f"SELECT {names} FROM {quote(table)} WITH NO DATA"
    )
    _copy(cursor, target, names, rows)
    cursor.execute(
        f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {target} "
        "ORDER BY 1 ON CONFLICT DO NOTHING"
    )


def rows_update(
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    same: Mapping[str, object] | None = None,
) -> int:
    """UPDATE ``table`` SET ``columns`` WHERE id = the row's id: ``columns`` name the
    values of a row, ``id`` last. Every row also sets the values of ``same``
    ({column: value})."""
    if not columns or columns[-1] != "id":
        raise ValueError(f"rows_update: the last column must be the id: {columns}")
    if not rows:
        return 0
    if same:
        shared = tuple(same.values())
        columns = (*same, *columns)
        rows = [(*shared, *row) for row in rows]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(c)} = %s" for c in columns if c != "id")
    if not is_postgresql():
        rows = [adapt_row(r) for r in rows]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {quote(table)} SET {sets} WHERE id = %s", rows)
    return len(rows)


def in_ids(values: Sequence[int] | Sequence[str], *, text: bool = False) -> RawSQL:
    """A subquery of ``values`` for ``filter(column__in=in_ids(values))``, one parameter."""
    if is_postgresql():
        kind = "text" if text else "bigint"
        return RawSQL(f"SELECT unnest(%s::{kind}[])", [list(values)])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(list(values))])
