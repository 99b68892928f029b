"""The digest of a report's findings as sent, without encoding them into one buffer.

``json_digest(value)`` is the BLAKE2b-128 hex digest of ``msgspec.json.encode(value)``,
computed from the same bytes fed piece by piece: the lists and objects of the first
levels are written out here, every value below them (a finding) is encoded alone and
a typed report's raw finding is hashed as the body holds it. Encoding a 44 MiB list of
findings whole would hold a second copy of the body while hashing it. Pure Python: no
Django.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import msgspec

from .typed import Doc

_encode = msgspec.json.Encoder().encode
_STREAMED_DEPTH = 3
"""Lists and objects above this depth are written out piece by piece; a list of results
holding lists of findings is two levels, each finding is encoded whole."""
_BATCH = 1 << 20


def _pieces(value: object, depth: int) -> Iterator[bytes | msgspec.Raw]:
    if isinstance(value, msgspec.Raw):
        yield value
    elif depth >= _STREAMED_DEPTH:
        yield _encode(value)
    elif isinstance(value, list):
        yield b"["
        for index, item in enumerate(value):
            if index:
                yield b","
            yield from _pieces(item, depth + 1)
        yield b"]"
    elif isinstance(value, Doc) or (
        isinstance(value, dict) and all(isinstance(key, str) for key in value)
    ):
        yield b"{"
        for index, (key, item) in enumerate(value.items()):  # a Doc's: set fields, in order
            if index:
                yield b","
            yield _encode(key) + b":"
            yield from _pieces(item, depth + 1)
        yield b"}"
    else:  # a leaf, or a mapping with keys msgspec writes its own way (YAML's numbers)
        yield _encode(value)


def json_digest(value: object) -> str:
    """``blake2b(msgspec.json.encode(value), digest_size=16).hexdigest()``, in pieces."""
    hasher = hashlib.blake2b(digest_size=16)
    batch: list[bytes | msgspec.Raw] = []
    size = 0
    for piece in _pieces(value, 0):
        batch.append(piece)
        size += len(piece)
        if size >= _BATCH:
            hasher.update(b"".join(batch))
            batch, size = [], 0
    hasher.update(b"".join(batch))
    return hasher.hexdigest()
