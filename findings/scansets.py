"""A scan's finding set as one compact value: sorted ids, delta-coded, zlib-compressed.

Consecutive ids (a report's findings are inserted together) give deltas of 1, so a
20,000-finding set compresses to about a kilobyte. Pure Python, no Django.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Iterable
from itertools import accumulate


def encode_ids(ids: Iterable[int]) -> bytes:
    """The sorted, distinct ``ids`` as bytes (little-endian int64 deltas, compressed)."""
    ordered = sorted(set(ids))
    deltas = array("q", (b - a for a, b in zip([0, *ordered], ordered, strict=False)))
    if sys.byteorder != "little":
        deltas.byteswap()
    return zlib.compress(deltas.tobytes(), 1)


def decode_ids(blob: bytes | memoryview | None) -> list[int]:
    """The sorted ids ``encode_ids`` stored."""
    if not blob:
        return []
    deltas = array("q")
    deltas.frombytes(zlib.decompress(bytes(blob)))
    if sys.byteorder != "little":
        deltas.byteswap()
    return list(accumulate(deltas))
