"""Type-guarded accessors for decoded JSON. Parsers never index blindly.

Every helper tolerates any JSON value (and ``None``) where a mapping is
expected, so a report with a wrong-typed field yields an empty value rather
than a KeyError/TypeError. NUL characters are dropped from text because
PostgreSQL text columns cannot store them (Grype versions contain them), and
lone surrogates (which no driver can encode) become U+FFFD.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from msgspec import Raw

from remediator.core.storable import storable_text

from .base import ParseError
from .typed import MAPPINGS

_T = TypeVar("_T")


def sharing() -> Callable[[_T], _T]:
    """A function giving one object for equal values (texts, tuples of texts), for one
    report's parse: a package, its version, a CVE's description or a location repeats
    over many findings, and each copy would be held until the findings are written."""
    memo: dict[Any, Any] = {}
    return lambda value: memo.setdefault(value, value)


def is_object(value: object) -> bool:
    """A JSON object: a dict, or a typed ``Doc`` (``typed.py``)."""
    return isinstance(value, MAPPINGS)


def type_name(value: object) -> str:
    """Describe a JSON value for an error message: 'an object', 'a list', ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, MAPPINGS):
        if not value:
            return "an empty object"
        keys = ", ".join(sorted(storable_text(str(k)) for k in value)[:8])
        return f"an object with keys {keys}"
    if isinstance(value, list):
        return "an empty list" if not value else "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    return type(value).__name__


def wrong_shape(source: str, expected: str, found: object) -> ParseError:
    """A ParseError in the house style: '<source>: expected X, found Y'."""
    return ParseError(f"{source}: expected {expected}, found {type_name(found)}")


def clean(value: object) -> str:
    """Text of a JSON scalar: strings stripped and storable, numbers as text, else ''."""
    if type(value) is str and value.isascii() and "\x00" not in value:
        return value.strip()  # the common case, in one step
    if isinstance(value, str):
        return storable_text(value).strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        return str(value)
    return ""


def as_dict(value: object) -> dict[str, Any]:
    """An object as it is (a dict, or a typed ``Doc`` read the same way), else ``{}``."""
    return value if isinstance(value, MAPPINGS) else {}  # type: ignore[return-value]


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def dicts(value: object) -> list[dict[str, Any]]:
    """The object items of a list (anything else, and non-lists, are dropped). A typed
    report's lists of findings are read with ``typed.objects``, never here."""
    items = as_list(value)
    if items and isinstance(items[0], Raw):
        raise TypeError("a list of raw items: read it with typed.objects")
    return [item for item in items if isinstance(item, MAPPINGS)]


def text(mapping: object, *keys: str) -> str:
    """The first non-empty text value among ``keys`` in ``mapping``."""
    if not isinstance(mapping, MAPPINGS):
        return ""
    for key in keys:
        found = clean(mapping.get(key))
        if found:
            return found
    return ""


def number(value: object) -> float | None:
    """A finite float from a JSON number or numeric string; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if not isinstance(value, int | float | str):
        return None
    try:
        result = float(value.strip() if isinstance(value, str) else value)
    except (ValueError, OverflowError):  # OverflowError: an integer beyond a float's range
        return None
    return result if math.isfinite(result) else None


def texts(value: object) -> list[str]:
    """Non-empty text items of a list (a lone string counts as a one-item list)."""
    items: Iterable[object] = [value] if isinstance(value, str) else as_list(value)
    return [t for t in (clean(item) for item in items) if t]


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Non-empty strings, first occurrence order, no duplicates."""
    return tuple(dict.fromkeys(item for item in items if item))
