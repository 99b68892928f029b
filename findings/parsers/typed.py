"""Typed decoding: a report decoded straight into the fields its parser reads.

A format's parser declares the JSON objects around its findings as :class:`Doc` Structs:
each field is one key the parser reads, typed ``Any`` (a wrong-typed value reaches the
parser as it would in a dict, and the parser's own guards decide) except the lists that
lead to the findings. msgspec then decodes a report in one pass without building a
Python object for any key the parser never reads there (an image's config and layers,
Grype's image manifest). A :class:`Doc` answers the parser's dict reads (``get``, ``in``,
``keys``, ``[key]``, ``items``) for its declared keys, so one parser reads either form.

The lists of findings are not decoded with the report: each item stays a ``msgspec.Raw``
(a view of the body, a few dozen bytes) until the parser reaches it with
:func:`objects`, which decodes it as plain JSON, hands it over and lets it go. So a parse
holds the body, one finding decoded at a time and the parsed findings, never the whole
report as objects beside them. (A finding decoded into a Struct skips its unread keys,
but the parser's many reads then go through ``Doc.get`` in Python: measured slower
than a dict's ``get`` in C, for Trivy's and Grype's findings alike.)

Every parser's reads must be declared. An undeclared key reads as absent, as it would
be from a dict without it: code outside the parsers may ask a report anything (is it a
Harbor event?) and must not fail on a body. The tests that parse every fixture both ways
set :data:`STRICT`, so that a parser reading an undeclared key raises
:class:`UndeclaredKey` there. A body the types do not fit (a list of findings holding a string, a
format's alternative shapes) or that the format's ``usable`` check refuses is decoded
again as plain JSON, so every error message and every odd shape is the parser's own, as
before. One difference is deliberate: a number beyond a 64-bit float's range (``1e400``,
a 5,000-digit integer) in a key the parser never reads outside the findings (an image's
config, say) is skipped, as the key is, where plain decoding refuses the body; in a
finding it is refused in the same words, when the parser reaches it. Pure Python: no
Django.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, KeysView
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec
from msgspec import UNSET

from .jsonload import BOM, decode_failure, is_utf8

_PLAIN = msgspec.json.Decoder()


class UndeclaredKey(KeyError):
    """A parser read a key its format's Structs do not declare (with :data:`STRICT`)."""


STRICT = False
"""Raise UndeclaredKey on an undeclared key, instead of reading it as absent (tests)."""


class _Names(dict[type, dict[str, str]]):
    """Each Doc class's JSON keys -> attribute names (they differ where a Struct renames),
    made on first use."""

    def __missing__(self, cls: type) -> dict[str, str]:
        names = dict(zip(cls.__struct_encode_fields__, cls.__struct_fields__, strict=True))
        self[cls] = names
        return names


_NAMES = _Names()


class Doc(msgspec.Struct, gc=False):
    """A JSON object decoded into declared fields; absent keys are ``UNSET``.

    ``gc=False``: decoded JSON holds no reference cycles, so tens of thousands of these
    need not be tracked by the garbage collector."""

    def _undeclared(self, key: object) -> None:
        if STRICT:
            raise UndeclaredKey(f"{type(self).__qualname__} does not declare {key!r}")

    def get(self, key: str, default: Any = None) -> Any:
        name = _NAMES[type(self)].get(key)
        if name is None:
            self._undeclared(key)
            return default
        value = getattr(self, name)
        return default if value is UNSET else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, UNSET)
        if value is UNSET:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key, UNSET) is not UNSET

    def keys(self) -> KeysView[str]:
        """The keys the object had, of those declared (a set-like view, as a dict's)."""
        names = _NAMES[type(self)]
        return dict.fromkeys(k for k, n in names.items() if getattr(self, n) is not UNSET).keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((key, self[key]) for key in self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())


def objects(value: object) -> Iterator[Any]:
    """The object items of a list, one at a time (anything else is dropped, as
    ``fields.dicts`` drops it); a typed report's raw items decoded as they are reached.

    Raises ParseError when an item holds a number beyond a float's range in a key its
    parser reads, as plain decoding refuses the whole body."""
    if not isinstance(value, list):
        return
    for item in value:
        if isinstance(item, msgspec.Raw):
            try:
                item = _PLAIN.decode(item)
            except msgspec.DecodeError as exc:  # a number beyond a float's range
                raise decode_failure(b"", exc) from None
        if isinstance(item, MAPPINGS):
            yield item


MAPPINGS = (dict, Doc)
"""What a parser accepts as a JSON object: a dict, or a typed :class:`Doc`."""


@dataclass(frozen=True)
class TypedFormat:
    """A format's typed decoding: the type of a whole report, and the check that the
    decoded report is one the parser reads (else the body is decoded as plain JSON)."""

    report: Any
    usable: Callable[[Any], bool]

    @property
    def decoder(self) -> msgspec.json.Decoder:
        return _decoder(self.report)


@cache
def _decoder(report: Any) -> msgspec.json.Decoder:
    return msgspec.json.Decoder(report)


def decode_typed(raw: bytes, typed: TypedFormat) -> object | None:
    """``raw`` decoded into ``typed``'s Structs; None when it does not fit them (then
    the caller decodes it as plain JSON, with that decoder's checks and messages)."""
    try:
        document = typed.decoder.decode(raw.removeprefix(BOM))
    except (msgspec.MsgspecError, RecursionError):
        return None
    if not is_utf8(raw):  # msgspec skips an unread key's text without checking it
        return None
    return document if typed.usable(document) else None
