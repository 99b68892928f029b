"""The filters of the engine's lists (actions, the audit log), one FilterSet per list,
used by its dashboard page and its API list alike (``remediator.core.filtering``)."""

from __future__ import annotations

from django.db.models import QuerySet

from findings.filters import OwnedFilterSet
from findings.querysets import repository_q
from remediator.core.filtering import (
    ChoiceFilter,
    CommaMultipleChoiceFilter,
    DayFilter,
    ListFilterSet,
    SortFilter,
    StrictBooleanFilter,
    TextFilter,
)
from remediator.core.storable import is_bigint
from remediator.engine.models import (
    OPEN_STATES,
    ActionKind,
    ActionState,
    AuditEvent,
    RemediationAction,
)
from remediator.engine.selectors import actions_matching_q

TABS = [
    ("", "All"),
    ("awaiting_approval", "Awaiting approval"),
    ("in_flight", "In flight"),
    ("failed", "Failed"),
    ("done", "Done"),
    ("closed", "Rejected / cancelled"),
]
"""The actions page's tabs: groups of states."""
TAB_STATES = {
    "in_flight": [
        ActionState.PROPOSED,
        ActionState.APPROVED,
        ActionState.DISPATCHED,
        ActionState.RUNNING,
        ActionState.SUCCEEDED,
    ],
    "failed": [ActionState.FAILED, ActionState.VERIFICATION_FAILED],
    "done": [ActionState.VERIFIED],
    "closed": [ActionState.REJECTED, ActionState.CANCELLED, ActionState.SUPERSEDED],
    "awaiting_approval": [ActionState.AWAITING_APPROVAL],
}


ACTION_ORDERINGS = {"newest": ("-id",), "state": ("state", "-id"), "kind": ("kind", "-id")}
ACTION_SORT_LABELS = {"newest": "Newest first", "state": "State", "kind": "Kind"}


class ActionFilter(OwnedFilterSet):
    tab = ChoiceFilter(
        choices=TABS[1:],
        method="filter_tab",
        empty_label=TABS[0][1],
        help_text="A group of states, as the actions page's tabs: awaiting_approval; "
        "in_flight (proposed to succeeded); failed (failed, verification_failed); done "
        "(verified); closed (rejected, cancelled, superseded)",
    )
    state = CommaMultipleChoiceFilter(
        choices=ActionState.choices, page_choices=[("", "Any"), *ActionState.choices]
    )
    kind = ChoiceFilter(choices=ActionKind.choices, empty_label="Any")
    image = TextFilter(
        method="filter_image",
        max_length=500,
        help_text='Repository id, or "registry/name", "name" (e.g. library/alpine or alpine).',
    )
    open = StrictBooleanFilter(method="filter_open", help_text="Only open actions.")
    q = TextFilter(
        method="filter_q",
        max_length=200,
        label="Search",
        help_text="#id, part of the image's name (name:tag narrows by tag), or a digest's start",
    )
    sort = SortFilter(orderings=ACTION_ORDERINGS, labels=ACTION_SORT_LABELS)

    PAGE_FIELDS = ("tab", "state", "team")

    class Meta:
        model = RemediationAction
        fields: list[str] = []

    def filter_tab(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(state__in=TAB_STATES[value])

    def filter_image(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if value.isascii() and value.isdigit():  # '²' is a digit to isdigit(), not to int()
            number = int(value)
            return queryset.filter(repository_id=number) if is_bigint(number) else queryset.none()
        return queryset.filter(repository_q(value.lower(), "repository__")) if value else queryset

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        q = actions_matching_q(value)
        return queryset.filter(q) if q else queryset.none()

    def filter_open(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        if value:
            return queryset.filter(state__in=OPEN_STATES)
        return queryset.exclude(state__in=OPEN_STATES)


class AuditEventFilter(ListFilterSet):
    actor = TextFilter(
        method="filter_actor", max_length=150, label="Actor", help_text="User name or label"
    )
    object = TextFilter(
        method="filter_object",
        max_length=120,
        label="Object",
        help_text='e.g. "remediationaction" or "remediationaction:12"',
    )
    kind = ChoiceFilter(choices=AuditEvent.Kind.choices, empty_label="Any", label="Kind")
    since = DayFilter(field_name="created_at", label="From (day)")
    until = DayFilter(field_name="created_at", end=True, label="To (day, included)")

    PAGE_FIELDS = ("actor", "object", "kind", "since", "until")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_actor(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """User names match exactly: Django's user names are case-sensitive."""
        actor = value.strip()
        return queryset.filter(actor_label=actor) if actor else queryset

    def filter_object(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not value.strip():
            return queryset
        object_type, _, object_id = value.strip().partition(":")
        queryset = queryset.filter(object_type=object_type.strip().lower())
        return queryset.filter(object_id=object_id.strip()) if object_id.strip() else queryset
