"""Who sees which images: team-scoped access, and the ``team`` filter of every list.

With ``TEAM_SCOPED_ACCESS`` off (the default) a role decides what a person sees, as it
always has. On, a person who is neither staff nor superuser sees only the image
repositories owned by one of their teams, and what hangs off them: findings, scans,
actions, approvals. Unowned repositories are hidden from them too: an image no rule
has matched yet may belong to any team (a label rule matches only once the workload is
seen), so scoping fails closed; staff see the unowned ones and write the rules that
give them an owner. A person in no team sees nothing.

Every read that pages, details, searches, exports or decisions go through narrows its
queryset with ``visible`` (the path from each model to its owner is ``OWNER_PATHS``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

OWNER_PATHS = {
    "findings.repository": "owner",
    "findings.finding": "repository__owner",
    "findings.image": "repository__owner",
    "findings.tag": "repository__owner",
    "findings.scan": "image__repository__owner",
    "remediator.remediationaction": "repository__owner",
}
"""A scoped model (``app_label.model``) -> the lookup path of its owning team."""
MINE = "mine"
UNOWNED = "unowned"
_CACHE = "_remediator_team_ids"


def user_team_ids(user: Any) -> frozenset[int]:
    """The ids of ``user``'s teams (read once per request: kept on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    if not hasattr(user, _CACHE):
        setattr(user, _CACHE, frozenset(user.team_memberships.values_list("team_id", flat=True)))
    return getattr(user, _CACHE)


def scope_team_ids(user: Any) -> frozenset[int] | None:
    """The teams whose repositories ``user`` may see, or None: every repository (scoping
    off, staff, superusers, or no user at all: the system's own work)."""
    if not settings.TEAM_SCOPED_ACCESS or user is None:
        return None
    if getattr(user, "is_staff", False) or getattr(user, "is_superuser", False):
        return None
    return user_team_ids(user)


def owner_path(queryset: QuerySet) -> str:
    return OWNER_PATHS[queryset.model._meta.label_lower]


def visible(queryset: QuerySet, user: Any) -> QuerySet:
    """``queryset`` narrowed to what ``user`` may see (unchanged when unscoped)."""
    team_ids = scope_team_ids(user)
    path = OWNER_PATHS.get(queryset.model._meta.label_lower)
    if team_ids is None or path is None:  # unscoped, or a list no team owns (deliveries)
        return queryset
    return queryset.filter(**{f"{path}__in": sorted(team_ids)})


def is_visible(queryset: QuerySet, pk: Any, user: Any) -> bool:
    """Whether the row ``pk`` of ``queryset`` exists and ``user`` may see it."""
    return visible(queryset.filter(pk=pk), user).exists()


def owned_by(queryset: QuerySet, team: str, user: Any) -> QuerySet:
    """The ``team`` filter: a team's slug, ``unowned``, or ``mine`` (the user's teams)."""
    path = owner_path(queryset)
    if team == UNOWNED:
        return queryset.filter(**{f"{path}__isnull": True})
    if team == MINE:
        return queryset.filter(**{f"{path}__in": sorted(user_team_ids(user))})
    return queryset.filter(Q(**{f"{path}__slug__iexact": team})) if team else queryset
