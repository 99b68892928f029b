"""The filters of every list of the findings store, one FilterSet per list, each used by
its dashboard page and its API list alike (``remediator.core.filtering``).

Identifiers are matched whole and ignoring case: vulnerability ids and packages through
the database's ``UPPER()`` (``selectors.findings``), image names, registries, digests and
package types by lowercasing what is typed (they are stored lowercase), tags through
``UPPER()``. ``q`` searches part of an image's name. Earlier names stay accepted:
``vulnerability`` (the API's name for ``cve``) and ``ordering`` (the API's name for
``sort``); the findings page's ``yes``/``no`` are booleans too.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Upper
from django.http import QueryDict
from django.utils import timezone

from findings.models import Delivery, Finding, Repository, Scan, Severity, Source, Vulnerability
from findings.querysets import ACTIVE_STATUSES, repository_q
from findings.selectors.findings import (
    ORDERINGS,
    findings_of_package,
    findings_of_vulnerability,
    findings_sorted,
)
from findings.selectors.scope import MINE, UNOWNED, owned_by, user_team_ids
from findings.selectors.search import MAX_QUERY, findings_matching_q, repositories_matching_q
from findings.selectors.seen import findings_seen_by
from findings.selectors.threat_intel import epss_at_least, kev_q
from remediator.core.filtering import (
    YES_NO,
    AnyDayFilter,
    ChoiceFilter,
    CommaMultipleChoiceFilter,
    DaysFilter,
    IdFilter,
    ListFilterSet,
    PageSelect,
    SinceFilter,
    SortFilter,
    StrictBooleanFilter,
    TextFilter,
    UnitFilter,
)
from remediator.core.severity import SEVERITY_RANK
from remediator.teams.models import Team

ACTIVE = "active"
"""``status=active``: open or in remediation (what still needs attention)."""
STATUSES = [(ACTIVE, "Open or in remediation"), *Finding.Status.choices]
SORT_LABELS = {
    "severity": "Severity, newest first",
    "risk": "Risk: KEV, then EPSS, then severity",
    "epss": "EPSS, highest first",
    "newest": "Newest first",
}
MIN_SEVERITY = [(s, f"{s.capitalize()} or worse") for s in ("critical", "high", "medium", "low")]
IMAGE_ORDERINGS = {
    "name": ("name", "id"),
    "registry": ("registry", "name", "id"),
    "newest": ("-id",),
}
DELIVERY_ORDERINGS = {"newest": ("-id",), "status": ("status", "-id"), "source": ("source", "-id")}
IMAGE_HELP = "Repository, with or without registry (docker.io/library/alpine, alpine)"


def _upper_equal(queryset: QuerySet, path: str, text: str) -> QuerySet:
    """``queryset`` where the text at ``path`` equals ``text`` ignoring case."""
    alias = f"{path}_upper"
    return queryset.alias(**{alias: Upper(path)}).filter(**{alias: Upper(Value(text.strip()))})


class OwnedFilterSet(ListFilterSet):
    """A list of things teams own: the ``team`` filter, and on a page "my teams" by
    default for a person in a team (the drop-down's "All teams" shows everything)."""

    team = TextFilter(
        method="filter_team",
        max_length=100,
        label="Team",
        help_text='The owning team\'s slug, "unowned", or "mine" (your teams)',
    )

    def _canonical(self, data: QueryDict | dict | None) -> QueryDict | None:
        data = super()._canonical(data)
        user = getattr(self.request, "user", None)
        if self.page and data is not None and "team" not in data and user_team_ids(user):
            data["team"] = MINE
        return data

    def _page_widgets(self, form: forms.Form) -> None:
        super()._page_widgets(form)
        teams = list(Team.objects.values_list("slug", "name"))
        choices = [("", "All teams"), (MINE, "My teams"), (UNOWNED, "Unowned"), *teams]
        form.fields["team"].widget = PageSelect(choices=choices)

    def filter_team(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        user = getattr(self.request, "user", None)
        return owned_by(queryset, value.strip().lower(), user)


class FindingFilter(OwnedFilterSet):
    severity = CommaMultipleChoiceFilter(
        choices=Severity.choices,
        method="filter_severity",
        label="Severity",
        page_choices=[("", "Any"), *Severity.choices],
    )
    status = CommaMultipleChoiceFilter(
        choices=STATUSES,
        method="filter_status",
        label="Status",
        help_text="active: open or in remediation. The findings page shows active ones "
        "unless a status is given (empty there: any status).",
        page_choices=[STATUSES[0], ("", "Any status"), *STATUSES[1:]],
    )
    fixable = StrictBooleanFilter(label="Fix available", page_choices=YES_NO)
    package = TextFilter(method="filter_package", max_length=300, label="Package")
    cve = TextFilter(
        method="filter_cve",
        max_length=100,
        label="CVE / vulnerability id",
        help_text="CVE, GHSA, ... id, ignoring case",
    )
    image = TextFilter(method="filter_image", max_length=500, label="Image", help_text=IMAGE_HELP)
    min_age = DaysFilter(method="filter_min_age", label="Older than (days)")
    kev = StrictBooleanFilter(
        method="filter_kev",
        label="Known exploited (KEV)",
        help_text="In CISA's KEV catalogue",
        page_choices=YES_NO,
    )
    epss_min = UnitFilter(
        method="filter_epss_min",
        label="EPSS at least (0-1)",
        help_text="EPSS score at least (0..1)",
    )
    due_before = AnyDayFilter(
        field_name="due_at",
        end=True,
        label="Due by (day, included)",
        help_text="Deadline on or before this day (YYYY-MM-DD)",
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        label="Overdue",
        help_text="true: open or in remediation and past the deadline; false: every other",
        page_choices=YES_NO,
    )
    sort = SortFilter(
        orderings=ORDERINGS,
        labels=SORT_LABELS,
        help_text="severity: worst first (the findings page's default); newest (the API's "
        "default); risk: KEV first, then EPSS, then severity; epss: highest EPSS first. "
        "A leading - reverses the order (-newest: oldest first)",
    )
    q = TextFilter(
        method="filter_q",
        max_length=MAX_QUERY,
        label="Search",
        help_text="Part of a vulnerability id, package or image name (registry/name:tag), "
        "or the start of a digest; ignoring case",
    )
    repository = IdFilter(field_name="repository_id")
    tag = TextFilter(method="filter_tag")
    package_type = TextFilter(method="filter_package_type")
    scan = IdFilter(method="filter_scan", label="Findings that this scan saw")
    since = SinceFilter(method="filter_since", label="Last seen at or after")
    vulnerability = TextFilter(
        method="filter_cve", max_length=100, help_text="Another name for cve (the API's first)"
    )
    ordering = SortFilter(
        orderings=ORDERINGS, labels=SORT_LABELS, help_text="Another name for sort (the API's first)"
    )

    ALIASES = {"vulnerability": "cve", "ordering": "sort"}
    PAGE_FIELDS = (
        "severity", "status", "fixable", "package", "cve", "image", "min_age", "kev",
        "epss_min", "q", "team", "sort", "due_before", "overdue",
    )  # fmt: skip
    PAGE_DEFAULTS = {"status": ACTIVE, "sort": "severity"}

    class Meta:
        model = Finding
        fields: list[str] = []

    def filter_severity(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        ranks = sorted({SEVERITY_RANK[s] for s in value}, reverse=True)
        if len(ranks) == 1:
            return queryset.filter(severity_rank=ranks[0])
        return queryset.filter(severity_rank__in=ranks) if ranks else queryset

    def filter_status(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        if value == [ACTIVE]:
            return queryset.open()
        active = ACTIVE_STATUSES if ACTIVE in value else ()
        wanted = [s for s in Finding.Status.values if s in value or s in active]
        return queryset.filter(status__in=wanted) if wanted else queryset

    def filter_package(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return findings_of_package(queryset, value) if value.strip() else queryset

    def filter_cve(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return findings_of_vulnerability(queryset, value) if value.strip() else queryset

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.for_repository(value.lower()) if value.strip() else queryset

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _upper_equal(queryset, "tag__name", value) if value.strip() else queryset

    def filter_package_type(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(package_type=value.strip().lower()) if value.strip() else queryset

    def filter_min_age(self, queryset: QuerySet, name: str, value: int | None) -> QuerySet:
        if not value:
            return queryset
        return queryset.filter(first_seen__lte=timezone.now() - timedelta(days=value))

    def filter_kev(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        return queryset if value is None else queryset.filter(kev_q(value))

    def filter_epss_min(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset if value is None else queryset.filter(epss_at_least(float(value)))

    def filter_since(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.seen_since(value)

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        late = Q(status__in=ACTIVE_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(late if value else ~late)

    def filter_scan(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return findings_seen_by(queryset, value)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(findings_matching_q(value)) if value.strip() else queryset

    def sorted(self, queryset: QuerySet, *, default: str) -> tuple[QuerySet, tuple[str, ...]]:
        """``queryset`` in the chosen order (``default`` when none is), and its keyset keys."""
        one = len(set(self.value("severity", []))) == 1
        return findings_sorted(queryset, self.value("sort", default), one_severity=one)


class ImageFilter(OwnedFilterSet):
    q = TextFilter(
        method="filter_q",
        max_length=300,
        label="Search",
        help_text="Part of the image's registry/name, with :tag to narrow by tag",
    )
    registry = TextFilter(method="filter_registry", max_length=255, label="Registry")
    min_severity = ChoiceFilter(
        choices=MIN_SEVERITY,
        method="filter_min_severity",
        empty_label="Any",
        label="Open findings at least",
    )
    fixable = StrictBooleanFilter(
        method="filter_fixable",
        label="Fixable",
        help_text="With open findings that have a fix (false: with none)",
        page_choices=[("", "Either"), ("true", "Has fixable findings")],
    )
    image = TextFilter(method="filter_image", max_length=500, help_text=IMAGE_HELP)

    sort = SortFilter(
        orderings=IMAGE_ORDERINGS,
        labels={"name": "Name", "registry": "Registry, then name", "newest": "Newest first"},
    )

    PAGE_FIELDS = ("q", "registry", "min_severity", "fixable", "team")

    class Meta:
        model = Repository
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(repositories_matching_q(value)) if value.strip() else queryset

    def filter_registry(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(registry=value.strip().lower()) if value.strip() else queryset

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(repository_q(value.lower())) if value.strip() else queryset

    def filter_min_severity(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        worse = Finding.objects.open().at_least(value).filter(repository=OuterRef("pk"))
        return queryset.filter(Exists(worse))

    def filter_fixable(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        fixable = Finding.objects.open().fixable().filter(repository=OuterRef("pk"))
        return queryset.filter(Exists(fixable) if value else ~Exists(fixable))


class ScanFilter(ListFilterSet):
    image = TextFilter(method="filter_image", max_length=500, help_text=IMAGE_HELP)
    repository = IdFilter(field_name="image__repository_id")
    tag = TextFilter(method="filter_tag")
    digest = TextFilter(method="filter_digest")
    source = ChoiceFilter(choices=Source.choices, empty_label="Any")
    since = SinceFilter(field_name="scanned_at", lookup_expr="gte")

    class Meta:
        model = Scan
        fields: list[str] = []

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        return queryset.filter(repository_q(value.lower(), "image__repository__"))

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return _upper_equal(queryset, "tag__name", value) if value.strip() else queryset

    def filter_digest(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        digest = value.strip().lower()
        return queryset.filter(image__digest=digest) if digest else queryset


class VulnerabilityFilter(ListFilterSet):
    severity = CommaMultipleChoiceFilter(choices=Severity.choices)

    class Meta:
        model = Vulnerability
        fields: list[str] = []


class DeliveryFilter(ListFilterSet):
    status = CommaMultipleChoiceFilter(
        choices=Delivery.Status.choices,
        label="Status",
        page_choices=[("", "Any"), *Delivery.Status.choices],
    )
    source = ChoiceFilter(choices=Source.choices, empty_label="Any", label="Source")
    channel = TextFilter()
    since = SinceFilter(field_name="received_at", lookup_expr="gte")

    sort = SortFilter(
        orderings=DELIVERY_ORDERINGS,
        labels={"newest": "Newest first", "status": "Status", "source": "Source"},
    )
    q = TextFilter(
        method="filter_q", max_length=MAX_QUERY, label="Search", help_text="Part of an image's name"
    )

    PAGE_FIELDS = ("status", "source")

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        repositories = Repository.objects.filter(repositories_matching_q(value)).values("id")
        scans = Scan.objects.filter(delivery=OuterRef("pk"), image__repository_id__in=repositories)
        return queryset.filter(Exists(scans))

    class Meta:
        model = Delivery
        fields: list[str] = []
