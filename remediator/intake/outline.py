"""What a webhook's acknowledgement decodes of a body: all of it up to
WEBHOOK_CHECK_MAX_BYTES (it is recognised before the answer), and past that only its JSON
syntax, checked to the last byte, and the names of its top-level members: the report is
not built into Python objects there, the worker decodes it, once.

Decoding a 2 MiB report into dicts and lists costs 7 ms alone and about 20 ms of CPU
per post during a burst of 32 such posts (allocation and the garbage collector); skipping
over it costs under 1 ms. Text that is not UTF-8, which the skip does not check, is
looked for apart (a megabyte at a time; nothing at all for ASCII): such a body is decoded
whole and refused with the decoder's words. What remains unchecked (a number beyond a
float's range) the worker's decode finds, and the delivery is kept as rejected with the
reason, like any large body that is no usable report.
"""

from __future__ import annotations

import msgspec
from django.conf import settings

from findings.parsers import load_body
from findings.parsers.base import ParseError
from findings.parsers.jsonload import is_utf8

_TOP_LEVEL = msgspec.json.Decoder(dict[str, msgspec.Raw])

EVENT_MEMBERS = frozenset({"specversion", "event_data"})
"""Members of a CloudEvent or a Harbor event: such a body is decoded whole at post time
(the sender's event id and the event's kind are read there)."""


def is_plain_json_object(body: bytes) -> bool:
    """True when ``body`` is a syntactically valid JSON object (no byte-order mark) that
    names none of EVENT_MEMBERS at its top level. False means "decode it whole": not JSON
    (the full decode names the problem), YAML, an array, a byte-order mark, or an event."""
    try:
        members = _TOP_LEVEL.decode(body)
    except (msgspec.MsgspecError, RecursionError):
        return False
    return EVENT_MEMBERS.isdisjoint(members) and is_utf8(body)


def body_decode_for_checks(source: str, body: bytes) -> tuple[object, ParseError | None]:
    """(document, error) for the checks of a webhook post. The document is None when the
    body is not decodable (the error says why), and also when it is a plain JSON object
    past WEBHOOK_CHECK_MAX_BYTES (:func:`is_plain_json_object`), which is left undecoded."""
    if len(body) > settings.WEBHOOK_CHECK_MAX_BYTES and is_plain_json_object(body):
        return None, None
    try:
        return load_body(source, body), None
    except ParseError as exc:
        return None, exc
