"""The base of every list's filters (django-filter), shared by its page and its API list.

One FilterSet per list names its parameters and their meanings once; the page and the
API bind the same class and differ only where a browser and a script differ:

- **Empty values.** A page's GET form sends every field, empty ones too: there an empty
  value means "not given". The API refuses an empty value for a filter that is not free
  text (``?since=`` is a 400, not "no filter"), as its schema says.
- **Defaults.** A page may fill a parameter that is absent (``PAGE_DEFAULTS``: the
  findings page shows open findings unless told otherwise); the API applies none.
- **Shown fields.** A page's form shows ``PAGE_FIELDS``, in order; the rest (ids, API
  names) are accepted there too, only not offered.

Earlier names of a parameter stay accepted everywhere (``ALIASES``): the value moves to
the parameter's name before anything is read. Both given, each is checked and each
applies (two filters narrow twice; of two orders, the parameter's own name wins).
Type-strict filters below refuse what the schema refuses.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar

import django_filters as filters
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import QueryDict
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field

from remediator.core.storable import BIGINT_MAX, utc_datetime

Choices = list[tuple[str, str]]


class PageChoicesMixin:
    """``page_choices=``: what the page's drop-down offers (an empty value first, or where
    the page wants it), when that is not the filter's own choices."""

    def __init__(self, *args: Any, page_choices: Choices | None = None, **kwargs: Any) -> None:
        self.page_choices = page_choices
        super().__init__(*args, **kwargs)


class PageSelect(forms.Select):
    """A drop-down for a page. For a filter that takes several values it reads them all
    (``?severity=high&severity=critical`` or one comma list) and selects each; a boolean
    shows an earlier spelling (``yes``) as the option it means; nothing given selects the
    empty option."""

    def __init__(self, *args: Any, several: bool = False, boolean: bool = False, **kwargs):
        self.several = several
        self.boolean = boolean
        super().__init__(*args, **kwargs)

    def value_from_datadict(self, data, files, name):
        if self.several and hasattr(data, "getlist"):
            return data.getlist(name)
        return super().value_from_datadict(data, files, name)

    def format_value(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            values = [part for item in value for part in str(item).split(",")]
        else:
            values = super().format_value(value)
        if self.boolean:
            values = [_boolean_option(v) for v in values]
        return values or [""]


def _boolean_option(text: str) -> str:
    lowered = text.strip().lower()
    if lowered in StrictBooleanField.TRUE:
        return "true"
    return "false" if lowered in StrictBooleanField.FALSE else text


class TypedValuesForm(forms.Form):
    """The API's filter form: refuses an empty value for any filter that is not free text."""

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) or self.data is None:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else ()
            if "" in values:
                self.add_error(name, "an empty value is not one; leave the parameter out")
        return cleaned


class ListFilterSet(filters.FilterSet):
    """A list's filters for its page (``page=True``) and its API list (the default)."""

    ALIASES: ClassVar[dict[str, str]] = {}
    """An earlier name -> the parameter's name (both accepted on the page and the API)."""
    PAGE_FIELDS: ClassVar[tuple[str, ...]] = ()
    """The filters the page's form shows, in order."""
    PAGE_DEFAULTS: ClassVar[dict[str, str]] = {}
    """What the page assumes for a parameter that is absent from its query string."""

    def __init__(
        self,
        data: QueryDict | dict | None = None,
        queryset=None,
        *,
        request=None,
        prefix: str | None = None,
        page: bool = False,
    ) -> None:
        self.page = page
        self.request = request
        super().__init__(self._canonical(data), queryset, request=request, prefix=prefix)

    def _canonical(self, data: QueryDict | dict | None) -> QueryDict | None:
        """``data`` with earlier names moved to the parameter's name (and on a page, its
        defaults filled in)."""
        if data is None:
            return None
        if isinstance(data, QueryDict):
            data = data.copy()
        else:  # a plain mapping of names to values
            given, data = data, QueryDict(mutable=True)
            for name, value in given.items():
                data.setlist(name, list(value) if isinstance(value, list | tuple) else [value])
        for alias, name in self.ALIASES.items():
            if alias in data and not any(value.strip() for value in data.getlist(name)):
                data.setlist(name, data.pop(alias))
        if self.page:
            for name, value in self.PAGE_DEFAULTS.items():
                if name not in data:
                    data[name] = value
        return data

    def get_form_class(self) -> type[forms.Form]:
        form = super().get_form_class()
        return form if self.page else type(form.__name__, (TypedValuesForm, form), {})

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form = super().form
            if self.page:
                self._page_widgets(form)
        return self._form

    def _page_widgets(self, form: forms.Form) -> None:
        """Drop-downs where a filter names its page choices; no help texts (they describe
        the API's parameters, and a page that does not show one must not point at it)."""
        for name, field in form.fields.items():
            field.help_text = ""
            choices = getattr(self.filters.get(name), "page_choices", None)
            if choices is not None:
                several = isinstance(field, forms.MultipleChoiceField)
                boolean = isinstance(field, StrictBooleanField)
                field.widget = PageSelect(choices=choices, several=several, boolean=boolean)

    def page_fields(self) -> list[forms.BoundField]:
        """The bound fields the page's form shows, in order."""
        return [self.form[name] for name in self.PAGE_FIELDS]

    def ordered(self, queryset, *, default: str):
        """``queryset`` in the order its ``sort`` chose (``default`` when none is), and its
        keyset keys; the list's default order when it has no ``sort``."""
        sort_filter = self.filters.get("sort")
        if not isinstance(sort_filter, SortFilter):
            return queryset, ()
        return queryset, sort_keys(sort_filter.orderings, self.value("sort", default))

    def sort_state(self, default: str) -> tuple[str, dict[str, tuple[str, ...]]]:
        """The chosen order's name and every order's keys (for a page's column headers)."""
        sort_filter = self.filters.get("sort")
        orderings = getattr(sort_filter, "orderings", {})
        return self.value("sort", default), orderings

    def value(self, name: str, default: Any = None) -> Any:
        """A parameter's cleaned value (``default`` when it is empty or the form invalid)."""
        if not self.is_valid():
            return default
        value = self.form.cleaned_data.get(name)
        return default if value in (None, "", [], ()) else value


class TextFilter(filters.CharFilter):
    """Free text. With ``max_length`` the schema says so, and the length is of the text as
    sent (a form field would count it after stripping white space, so a value the schema
    calls too long could pass): the filter strips what it compares."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("max_length") is not None:
            kwargs.setdefault("strip", False)
        super().__init__(*args, **kwargs)
        if kwargs.get("max_length") is not None:
            set_override(self, "field", {"type": "string", "maxLength": kwargs["max_length"]})


class CommaMultipleField(forms.MultipleChoiceField):
    """Repeated parameters and comma lists alike: ``?a=x&a=y`` or ``?a=x,y``."""

    def to_python(self, value: object) -> list[str]:
        items = super().to_python(value)
        return [part.strip() for item in items for part in item.split(",") if part.strip()]


class CommaMultipleChoiceFilter(PageChoicesMixin, filters.MultipleChoiceFilter):
    field_class = CommaMultipleField


class ChoiceFilter(PageChoicesMixin, filters.ChoiceFilter):
    """A choice; ``empty_label`` is what a page's drop-down says for "any"."""


class UtcDateTimeField(IsoDateTimeField):
    """ISO 8601 with any offset, turned into UTC; refused when that leaves years 1-9999
    (PostgreSQL refuses offsets past ±15:59, SQLite's adapter overflows)."""

    def to_python(self, value: object):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        utc = utc_datetime(parsed)
        if utc is None:
            raise forms.ValidationError("the time is out of range once converted to UTC")
        return utc


class SinceFilter(filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
"""Days a day filter takes: their midnight, and the next, exist in every time zone."""


@extend_schema_field({"type": "string", "format": "date"})
class DayFilter(filters.DateFilter):
    """A calendar day (YYYY-MM-DD, a date picker on the page) in the site's time zone.

    ``end=False``: at or after the day's start; ``end=True``: up to the day's end
    (before the next day starts), so "from 1 May to 1 May" is all of 1 May."""

    def __init__(self, *args: Any, end: bool = False, **kwargs: Any) -> None:
        self.end = end
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "date"}))
        kwargs.setdefault("validators", [MinValueValidator(FIRST_DAY), MaxValueValidator(LAST_DAY)])
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value: date | None):
        if value is None:
            return queryset
        day = value + timedelta(days=1) if self.end else value
        moment = timezone.make_aware(datetime.combine(day, time.min))
        lookup = "lt" if self.end else "gte"
        return queryset.filter(**{f"{self.field_name}__{lookup}": moment})


class AnyDayFilter(DayFilter):
    """A day filter that takes any date: a day before 1900 counts as 1 January 1900 and
    one after 9998 as 31 December 9998 (nothing is dated outside them), so every date
    the schema's ``format: date`` allows is answered, never refused."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [])
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value: date | None):
        return super().filter(queryset, value and min(max(value, FIRST_DAY), LAST_DAY))


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(filters.NumberFilter):
    """A database id: a whole number from 1 to 2**63-1 (else 400, never an overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


MAX_DAYS = 36_500


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_DAYS})
class DaysFilter(filters.NumberFilter):
    """A number of days: a whole number from 0 to 36,500 (a hundred years)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_DAYS)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``, or the pages' earlier ``yes``/``no``, any case);
    empty means not given. Django's NullBooleanField reads anything else (``?kev=abc``) as
    "not given": refused here."""

    TRUE = ("true", "1", "yes")
    FALSE = ("false", "0", "no")

    def to_python(self, value: object) -> bool | None:
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        text = str(value).strip().lower()
        if text in self.TRUE or text in self.FALSE:
            return text in self.TRUE
        raise forms.ValidationError("Enter true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(PageChoicesMixin, filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs) -> None:
        # django-filter's boolean widgets turn what they do not know into None first
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "number", "minimum": 0, "maximum": 1})
class UnitFilter(filters.NumberFilter):
    """A probability: a number from 0 to 1."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 1)
        super().__init__(*args, **kwargs)


YES_NO: Choices = [("", "Either"), ("true", "Yes"), ("false", "No")]
"""A page's drop-down for a boolean filter."""


Orderings = dict[str, tuple[str, ...]]


def sort_choices(orderings: Orderings, labels: dict[str, str] | None = None) -> Choices:
    """Every order of ``orderings`` and its reverse (the name with a leading ``-``)."""
    labels = labels or {}
    choices = [(name, labels.get(name, name)) for name in orderings]
    return choices + [(f"-{name}", f"{labels.get(name, name)}, reversed") for name in orderings]


def sort_keys(orderings: Orderings, sort: str) -> tuple[str, ...]:
    """The keyset keys of ``sort``: its order's keys, each flipped for ``-name``."""
    if not sort.startswith("-"):
        return orderings[sort]
    return tuple(k[1:] if k.startswith("-") else f"-{k}" for k in orderings[sort[1:]])


class SortFilter(ChoiceFilter):
    """``sort``: one of a list's named orders (``orderings``: name -> keyset keys, a unique
    key last), or its reverse with a leading ``-``. An order, not a filter: the list reads
    it through ``ListFilterSet.ordered``."""

    def __init__(self, *args: Any, orderings: Orderings, labels: dict[str, str] | None = None,
                 **kwargs: Any) -> None:  # fmt: skip
        self.orderings = orderings
        kwargs.setdefault("choices", sort_choices(orderings, labels))
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault("label", "Sort by")
        kwargs.setdefault("method", lambda queryset, name, value: queryset)
        super().__init__(*args, **kwargs)
