"""Input fields that take what the schema says and nothing else.

DRF's CharField turns ``5``, ``true`` or ``1.5`` into text, so a body whose field had
the wrong type was accepted although the schema says string; a text of spaces passed
``minLength: 1`` in the schema but was refused as blank; a NUL was refused (no
database stores it) though the schema allowed it. These refuse a value that is not a
JSON string (400) and say in the schema (``pattern``) what else they refuse: NUL, and
for a required text, nothing but white space. They keep the text as sent (DRF trimmed
it, so a text one character over ``maxLength`` with a leading \x1f was accepted).
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

NO_NUL = RegexValidator(r"^[^\x00]*$", message="Null characters are not allowed.")
NOT_BLANK = RegexValidator(
    r"^[^\x00]*[^\s\x00][^\x00]*$", message="This field may not be blank or hold NUL."
)


class TextField(serializers.CharField):
    """A JSON string without NUL; anything else is refused."""

    default_error_messages = {"not_a_string": "Must be a string."}
    pattern = NO_NUL

    def __init__(self, **kwargs) -> None:
        kwargs["validators"] = [*kwargs.get("validators", ()), self.pattern]
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class RequiredTextField(TextField):
    """A required JSON string with something in it besides white space, without NUL."""

    pattern = NOT_BLANK
