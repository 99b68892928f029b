"""Filter forms for the findings and images pages (plain GET forms)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from findings.models import Finding, Severity
from findings.threat_intel.queries import epss_at_least, kev_q
from remediator.core.severity import SEVERITY_RANK

ANY = [("", "Any")]
ACTIVE = "active"
STATUS_CHOICES = [
    (ACTIVE, "Open or in remediation"),
    ("", "Any status"),
    *Finding.Status.choices,
]
YES_NO = [("", "Either"), ("yes", "Yes"), ("no", "No")]
SORTS = [
    ("severity", "Severity, newest first"),
    ("risk", "Risk: KEV, then EPSS, then severity"),
    ("epss", "EPSS, highest first"),
]
MIN_SEVERITY = [("", "Any")] + [
    (s, f"{s.capitalize()} or worse") for s in ("critical", "high", "medium", "low")
]


class FindingFilterForm(forms.Form):
    severity = forms.ChoiceField(choices=ANY + Severity.choices, required=False)
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, initial=ACTIVE)
    fixable = forms.ChoiceField(choices=YES_NO, required=False, label="Fix available")
    package = forms.CharField(required=False, max_length=300)
    cve = forms.CharField(required=False, max_length=100, label="CVE / vulnerability id")
    image = forms.CharField(required=False, max_length=500, label="Image")
    min_age = forms.IntegerField(
        required=False, min_value=0, max_value=36_500, label="Older than (days)"
    )
    kev = forms.ChoiceField(choices=YES_NO, required=False, label="Known exploited (KEV)")
    epss_min = forms.FloatField(
        required=False, min_value=0, max_value=1, label="EPSS at least (0-1)"
    )
    sort = forms.ChoiceField(choices=SORTS, required=False, label="Sort by", initial="severity")

    def __init__(self, data, *args, **kwargs):
        data = data.copy()
        if "status" not in data:
            data["status"] = ACTIVE
        super().__init__(data, *args, **kwargs)

    def apply(self, queryset: QuerySet) -> QuerySet:
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["severity"]:
            queryset = queryset.filter(severity_rank=SEVERITY_RANK[data["severity"]])
        if data["status"] == ACTIVE:
            queryset = queryset.open()
        elif data["status"]:
            queryset = queryset.filter(status=data["status"])
        if data["fixable"]:
            queryset = queryset.filter(fixable=data["fixable"] == "yes")
        if data["package"]:
            queryset = queryset.filter(package=data["package"].strip())
        if data["cve"]:
            cve = data["cve"].strip()
            queryset = queryset.filter(vulnerability_id__in={cve, cve.upper()})
        if data["image"]:
            queryset = queryset.for_repository(data["image"].strip())
        if data["kev"]:
            queryset = queryset.filter(kev_q(data["kev"] == "yes"))
        if data["epss_min"] is not None:
            queryset = queryset.filter(epss_at_least(data["epss_min"]))
        if data["min_age"]:
            queryset = queryset.filter(
                first_seen__lte=timezone.now() - timedelta(days=data["min_age"])
            )
        return queryset


class ImageFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=300, label="Search")
    registry = forms.CharField(required=False, max_length=255)
    min_severity = forms.ChoiceField(
        choices=MIN_SEVERITY, required=False, label="Open findings at least"
    )
    fixable = forms.ChoiceField(
        choices=[("", "Either"), ("yes", "Has fixable findings")], required=False, label="Fixable"
    )

    def apply(self, queryset: QuerySet) -> QuerySet:
        if not self.is_valid():
            return queryset.none()
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["registry"]:
            queryset = queryset.filter(registry=data["registry"].strip())
        open_findings = Finding.objects.open().filter(repository=OuterRef("pk"))
        if data["min_severity"]:
            rank = SEVERITY_RANK[data["min_severity"]]
            queryset = queryset.filter(Exists(open_findings.filter(severity_rank__gte=rank)))
        if data["fixable"] == "yes":
            queryset = queryset.filter(Exists(open_findings.filter(fixable=True)))
        return queryset
