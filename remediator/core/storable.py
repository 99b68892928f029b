"""What the database can store, for values that come from outside.

PostgreSQL refuses NUL in text and jsonb, and no database driver can encode a
lone UTF-16 surrogate; datetimes must stay within years 1-9999 once in UTC
(PostgreSQL also refuses offsets beyond ±15:59, so everything is stored in UTC);
integer columns are 64-bit. Pure Python: the parsers use it too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

BIGINT_MAX = 2**63 - 1
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _replace(match: re.Match[str]) -> str:
    return "" if match.group() == "\x00" else REPLACEMENT


def storable_text(value: str) -> str:
    """``value`` without NUL, each lone surrogate replaced by U+FFFD."""
    if value.isascii():
        return value.replace("\x00", "") if "\x00" in value else value
    return _UNSTORABLE.sub(_replace, value)


def is_storable_text(value: str) -> bool:
    return _UNSTORABLE.search(value) is None


def storable_json(value: object, text: Callable[[str], str] = storable_text) -> object:
    """A copy of a JSON-like value whose keys and strings are storable text.

    Walks with an explicit stack, so any nesting the decoder allowed is fine.
    """
    root: list[object] = [None]
    stack: list[tuple[object, object, object]] = [(value, root, 0)]
    while stack:
        item, parent, slot = stack.pop()
        if isinstance(item, str):
            item = text(item)
        elif isinstance(item, dict):
            copy: dict[str, object] = {}
            for key, child in item.items():
                name = text(key) if isinstance(key, str) else str(key)
                copy[name] = None
                stack.append((child, copy, name))
            item = copy
        elif isinstance(item, list | tuple):
            items: list[object] = [None] * len(item)
            stack.extend((child, items, index) for index, child in enumerate(item))
            item = items
        parent[slot] = item  # type: ignore[index]
    return root[0]


def utc_datetime(value: datetime) -> datetime | None:
    """``value`` in UTC (naive counts as UTC), or None when that leaves years 1-9999."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def is_bigint(value: int) -> bool:
    """Fits a signed 64-bit integer column (ids, counts)."""
    return -BIGINT_MAX - 1 <= value <= BIGINT_MAX
