"""Query filters of the read API (django-filter)."""

from __future__ import annotations

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField

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


class IdFilter(filters.NumberFilter):
    """A database id: a whole number from 1 to 2**63-1 (else 400, never an overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)


class ImageFilter(filters.FilterSet):
    image = filters.CharFilter(method="filter_image", label="Repository, with or without registry")
    registry = filters.CharFilter()

    class Meta:
        model = Repository
        fields = ["image", "registry"]

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(repository_q(value))


class ScanFilter(filters.FilterSet):
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


class FindingFilter(filters.FilterSet):
    severity = CommaMultipleChoiceFilter(choices=Severity.choices)
    status = CommaMultipleChoiceFilter(choices=Finding.Status.choices)
    fixable = filters.BooleanFilter()
    image = filters.CharFilter(method="filter_image", label="Repository, with or without registry")
    repository = IdFilter(field_name="repository_id")
    tag = filters.CharFilter(field_name="tag__name")
    package = filters.CharFilter()
    package_type = filters.CharFilter()
    vulnerability = filters.CharFilter(field_name="vulnerability_id")
    scan = IdFilter(method="filter_scan", label="Findings that this scan saw")
    since = SinceFilter(method="filter_since", label="Last seen at or after")
    kev = filters.BooleanFilter(method="filter_kev", label="In CISA's KEV catalogue")
    epss_min = filters.NumberFilter(
        method="filter_epss_min", min_value=0, max_value=1, label="EPSS score at least (0..1)"
    )

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


class VulnerabilityFilter(filters.FilterSet):
    severity = CommaMultipleChoiceFilter(choices=Severity.choices)

    class Meta:
        model = Vulnerability
        fields = ["severity"]


class DeliveryFilter(filters.FilterSet):
    status = CommaMultipleChoiceFilter(choices=Delivery.Status.choices)
    source = filters.ChoiceFilter(choices=Source.choices)
    channel = filters.CharFilter()
    since = SinceFilter(field_name="received_at", lookup_expr="gte")

    class Meta:
        model = Delivery
        fields = ["status", "source", "channel", "since"]
