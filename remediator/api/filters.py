"""Query filters of the read API (django-filter), strict about types as the schema is.

django-filter reads an empty value (``?since=``, ``?repository=``, ``?source=``) as "no
filter" and an unknown boolean (``?kev=abc``) as "not given"; the schema says these are
a date-time, an integer, an enum, a boolean. Here anything that is not a value of the
filter's type is refused (400), as the schema says; only free text may be empty.
"""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from findings.models import (
    Delivery,
    Finding,
    Repository,
    Scan,
    Severity,
    Source,
    Vulnerability,
)
from findings.querysets import repository_q
from findings.seen import findings_seen_by
from findings.threat_intel.queries import epss_at_least, kev_q
from remediator.core.storable import BIGINT_MAX, utc_datetime


class TypedValuesForm(forms.Form):
    """A filter form that refuses an empty value for any filter that is not free text."""

    def clean(self) -> dict:
        cleaned = super().clean()
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) or self.data is None:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else ()
            if "" in values:
                self.add_error(name, "an empty value is not one; leave the parameter out")
        return cleaned


class ApiFilterSet(filters.FilterSet):
    """The base of every API filter: typed values only (TypedValuesForm)."""

    def get_form_class(self) -> type[forms.Form]:
        form = super().get_form_class()
        return type(form.__name__, (TypedValuesForm, form), {})


class CommaMultipleField(forms.MultipleChoiceField):
    """Repeated parameters and comma lists alike: ``?a=x&a=y`` or ``?a=x,y``."""

    def to_python(self, value: object) -> list[str]:
        items = super().to_python(value)
        return [part.strip() for item in items for part in item.split(",") if part.strip()]


class CommaMultipleChoiceFilter(filters.MultipleChoiceFilter):
    field_class = CommaMultipleField


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


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": BIGINT_MAX})
class IdFilter(filters.NumberFilter):
    """A database id: a whole number from 1 to 2**63-1 (else 400, never an overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``, any case); empty means not given. Django's
    NullBooleanField reads anything else (``?kev=abc``) as "not given": refused here."""

    TRUE = ("true", "1")
    FALSE = ("false", "0")

    def to_python(self, value: object) -> bool | None:
        if value in (None, "") or isinstance(value, bool):
            return value if isinstance(value, bool) else None
        text = str(value).strip().lower()
        if text in self.TRUE or text in self.FALSE:
            return text in self.TRUE
        raise forms.ValidationError("Enter true or false.", code="invalid")


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(filters.BooleanFilter):
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


class ImageFilter(ApiFilterSet):
    image = filters.CharFilter(method="filter_image", label="Repository, with or without registry")
    registry = filters.CharFilter()

    class Meta:
        model = Repository
        fields = ["image", "registry"]

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(repository_q(value))


class ScanFilter(ApiFilterSet):
    image = filters.CharFilter(method="filter_image", label="Repository, with or without registry")
    repository = IdFilter(field_name="image__repository_id")
    tag = filters.CharFilter(field_name="tag__name")
    digest = filters.CharFilter(field_name="image__digest")
    source = filters.ChoiceFilter(choices=Source.choices)
    since = SinceFilter(field_name="scanned_at", lookup_expr="gte")

    class Meta:
        model = Scan
        fields = ["image", "repository", "tag", "digest", "source", "since"]

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(repository_q(value, "image__repository__"))


class FindingFilter(ApiFilterSet):
    severity = CommaMultipleChoiceFilter(choices=Severity.choices)
    status = CommaMultipleChoiceFilter(choices=Finding.Status.choices)
    fixable = StrictBooleanFilter()
    image = filters.CharFilter(method="filter_image", label="Repository, with or without registry")
    repository = IdFilter(field_name="repository_id")
    tag = filters.CharFilter(field_name="tag__name")
    package = filters.CharFilter()
    package_type = filters.CharFilter()
    vulnerability = filters.CharFilter(field_name="vulnerability_id")
    scan = IdFilter(method="filter_scan", label="Findings that this scan saw")
    since = SinceFilter(method="filter_since", label="Last seen at or after")
    kev = StrictBooleanFilter(method="filter_kev", label="In CISA's KEV catalogue")
    epss_min = UnitFilter(method="filter_epss_min", label="EPSS score at least (0..1)")

    class Meta:
        model = Finding
        fields = [
            "severity", "status", "fixable", "image", "repository", "tag", "package",
            "package_type", "vulnerability", "scan", "since", "kev", "epss_min",
        ]  # fmt: skip

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.for_repository(value)

    def filter_kev(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return queryset if value is None else queryset.filter(kev_q(value))

    def filter_epss_min(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset if value is None else queryset.filter(epss_at_least(float(value)))

    def filter_since(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.seen_since(value)

    def filter_scan(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return findings_seen_by(queryset, value)


class VulnerabilityFilter(ApiFilterSet):
    severity = CommaMultipleChoiceFilter(choices=Severity.choices)

    class Meta:
        model = Vulnerability
        fields = ["severity"]


class DeliveryFilter(ApiFilterSet):
    status = CommaMultipleChoiceFilter(choices=Delivery.Status.choices)
    source = filters.ChoiceFilter(choices=Source.choices)
    channel = filters.CharFilter()
    since = SinceFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = Delivery
        fields = ["status", "source", "channel", "since"]
