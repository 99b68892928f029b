"""The API's JSON request parser: the same strict decoder as the webhooks (msgspec).

DRF's own JSONParser (Python's json) accepts a lone surrogate escape such as
``"\\ud800"``, which no database driver can store: a reason written with one
answered 500. This one answers 400 ``parse_error`` naming the problem.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError as DrfParseError
from rest_framework.parsers import JSONParser

from findings.parsers import ParseError, load_json


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> object:
        try:
            return load_json(stream.read() if stream is not None else b"")
        except ParseError as exc:
            raise DrfParseError(f"JSON parse error - {exc}") from None


API_PARSERS = [StrictJSONParser]
"""The API takes JSON bodies only, as its schema says: a form or multipart body (which
cannot carry null, numbers or booleans) is answered 415."""
