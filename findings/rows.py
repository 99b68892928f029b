"""Named rows: what ingest reads and writes, as msgspec Structs whose fields are the columns.

A ``Row`` is frozen and ``gc=False``, as a parsed finding is (``ParsedFinding``): built in
C, by keyword or in field order; its fields read as fast as a tuple's items; compared and
hashed by value; never tracked by the garbage collector. A report makes tens of thousands
of rows and keeps many until its transaction ends: as NamedTuples (tuples of a class of
their own, which the collector never untracks) the full collections they brought made a
whole ingest take 4 to 10% more CPU than plain tuples did; as Structs it takes about 3%
less (``bench/ingest_rows.py``). ``findings.bulk`` writes a row as ``astuple(row)`` under its
type's ``__struct_fields__``. A row holds no other row and nothing that refers back to
it, so no cycle needs the collector.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter

import msgspec
from msgspec.structs import fields


class Row(msgspec.Struct, frozen=True, gc=False):
    """A named row (no fields of its own)."""


def fields_of(*parts: type[Row] | tuple[str, object]) -> list[tuple[str, object]]:
    """The fields of a row made of ``parts``, in order, for ``msgspec.defstruct``: each part
    a Row type (all its fields) or one (name, type); a (name, type) naming a field already
    given retypes it where it stands."""
    made: dict[str, object] = {}
    for part in parts:
        made.update([(f.name, f.type) for f in fields(part)] if isinstance(part, type) else [part])
    return list(made.items())


def columns_getter(columns: Sequence[str], wanted: Sequence[str]) -> Callable[[tuple], tuple]:
    """Reads the ``wanted`` values (two or more), in that order, of a tuple of ``columns``:
    by their positions, found by name here once."""
    return itemgetter(*(columns.index(column) for column in wanted))


_encode_json = msgspec.json.Encoder().encode


def json_text(value: object) -> str:
    """``value`` as a JSON column's text: compact UTF-8, as msgspec writes it in C (the
    database keeps the value: jsonb on PostgreSQL; SQLite reads the same value back). Text
    holding a lone surrogate, which UTF-8 cannot carry, is escaped as ``json.dumps`` does."""
    try:
        return _encode_json(value).decode()
    except UnicodeEncodeError:
        return json.dumps(value)
