"""The admin edits a list field (a JSONField holding a list of texts: image globs,
vulnerability ids, notification channels) as a text box, one item per line, never as
raw JSON."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.http import HttpRequest

MAX_LINES = 1000
MAX_LINE = 500


class LinesField(forms.Field):
    """A list of texts typed one per line: blank lines are left out, each kept as typed
    (less the spaces around it)."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60, "spellcheck": "false"})
    default_error_messages = {
        "too_many": f"At most {MAX_LINES} lines.",
        "too_long": f"Line %(line)s is longer than {MAX_LINE} characters.",
        "nul": "Line %(line)s holds a NUL character.",
    }

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(item) for item in value]
        lines = (line.strip() for line in str(value or "").splitlines())
        return [line for line in lines if line]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > MAX_LINES:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        for number, line in enumerate(value, start=1):
            if len(line) > MAX_LINE:
                raise forms.ValidationError(
                    self.error_messages["too_long"], code="too_long", params={"line": number}
                )
            if "\x00" in line:
                raise forms.ValidationError(
                    self.error_messages["nul"], code="nul", params={"line": number}
                )


class ListFieldsAdmin:
    """A ModelAdmin mix-in: the fields named in ``list_fields`` (name -> help text) are
    edited one item per line."""

    list_fields: dict[str, str] = {}

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name in self.list_fields:
            return LinesField(
                required=not db_field.blank,
                label=db_field.verbose_name.capitalize(),
                help_text=self.list_fields[db_field.name],
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
