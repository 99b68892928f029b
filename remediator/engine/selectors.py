"""Every named read of the action engine: actions and their findings, events, who asked
for an action, the audit log. Writes and transitions are the services' (``services/``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from findings.models import Finding, Repository
from findings.selectors.scope import visible
from remediator.engine.models import ActionState, AuditEvent, RemediationAction

BADGE_CAP = 99
"""The approvals badge counts up to this many ("99+" past it)."""

# A person's request writes a transition event into one of these states: creating an
# action (proposed, then awaiting_approval) or joining it (awaiting_approval -> itself).
REQUESTING_STATES = (ActionState.PROPOSED, ActionState.AWAITING_APPROVAL)


def actions_listed() -> QuerySet[RemediationAction]:
    """Actions with what the actions page shows of each (no query per row)."""
    return RemediationAction.objects.select_related(
        "repository__owner", "tag", "policy", "requested_by", "build_target"
    )


def actions_detailed() -> QuerySet[RemediationAction]:
    """Actions with everything an action's page shows of it."""
    return RemediationAction.objects.select_related(
        "repository", "tag", "image", "policy", "build_target", "requested_by", "verified_by_scan"
    )


def actions_with_counts() -> QuerySet[RemediationAction]:
    """Actions with their relations and the number of findings each covers
    (``findings_count``): the API's actions."""
    return RemediationAction.objects.select_related(
        "repository__owner", "tag", "image", "policy", "build_target", "requested_by"
    ).annotate(findings_count=Count("findings", distinct=True))


def actions_awaiting() -> QuerySet[RemediationAction]:
    """Actions waiting for a person's approval, with what the queue shows of each."""
    return RemediationAction.objects.filter(state=ActionState.AWAITING_APPROVAL).select_related(
        "repository__owner", "tag", "image", "policy", "requested_by", "build_target"
    )


def actions_awaiting_count(*, cap: int = BADGE_CAP, user: Any = None) -> int:
    """How many actions ``user`` may see wait for approval, counted up to ``cap`` + 1."""
    waiting = RemediationAction.objects.filter(state=ActionState.AWAITING_APPROVAL)
    return visible(waiting, user)[: cap + 1].count()


def actions_by_state(user: Any = None) -> dict[str, int]:
    """How many actions ``user`` may see are in each state (states with none left out)."""
    return dict(
        visible(RemediationAction.objects.order_by(), user)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )


def actions_matching_q(text: str) -> Q:
    """The actions ``q`` finds (the actions FilterSet's ``q`` and the search box): the
    action ``#12`` or ``12``, or of an image whose name contains the text (a ``:tag``
    narrows to tags containing it), or whose digest starts with it."""
    text = text.strip().lower()
    number = text.removeprefix("#")
    q = Q(pk=int(number)) if number.isascii() and number.isdigit() and len(number) < 19 else Q()
    head, sep, tail = text.rpartition(":")
    if sep and tail and "/" not in tail and not head.startswith("sha"):
        q |= Q(repository__name__icontains=head, tag__name__icontains=tail)
    elif len(text) >= 2:
        q |= Q(repository__name__icontains=text) | Q(image__digest__startswith=text)
    return q


def actions_matching(text: str, *, limit: int, user: Any = None) -> list[RemediationAction]:
    """The newest ``limit`` actions ``text`` finds (see ``actions_matching_q``) of those
    ``user`` may see (team-scoped access)."""
    q = actions_matching_q(text)
    if not q:
        return []
    return list(visible(actions_listed(), user).filter(q).order_by("-id")[:limit])


def actions_overdue_count(*, hours: int) -> int:
    """Actions waiting for approval for more than ``hours``."""
    since = timezone.now() - timedelta(hours=hours)
    return RemediationAction.objects.filter(
        state=ActionState.AWAITING_APPROVAL, created_at__lt=since
    ).count()


def action_findings(action: RemediationAction, *, limit: int) -> list[Finding]:
    """The worst ``limit`` findings an action covers (worst first, newest first)."""
    return list(
        action.findings.select_related("vulnerability", "tag")
        .defer("vulnerability__description", "locations")
        .order_by("-severity_rank", "-id")[:limit]
    )


def actions_covered(action_ids: list[int], *, per_action: int) -> tuple[dict, dict]:
    """For a page of actions: the worst ``per_action`` findings each covers, and how
    many it covers in all (one query for the page)."""
    through = RemediationAction.findings.through
    links = (
        through.objects.filter(remediationaction_id__in=action_ids)
        .select_related("finding")
        .only(
            "remediationaction_id",
            "finding__id",
            "finding__vulnerability_id",
            "finding__severity",
            "finding__severity_rank",
            "finding__package",
            "finding__fixed_version",
        )
        .order_by("remediationaction_id", "-finding__severity_rank", "-finding_id")
    )
    covered: dict[int, list[Finding]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for link in links.iterator(chunk_size=2000):
        counts[link.remediationaction_id] += 1
        if len(covered[link.remediationaction_id]) < per_action:
            covered[link.remediationaction_id].append(link.finding)
    return covered, counts


def action_events(action: RemediationAction, *, limit: int = 500) -> QuerySet[AuditEvent]:
    """An action's audit events, oldest first: its transitions and outside calls."""
    return (
        AuditEvent.objects.filter(
            Q(action=action) | Q(object_type="remediationaction", object_id=str(action.pk))
        )
        .select_related("actor")
        .order_by("id")[:limit]
    )


def repository_actions(repository: Repository, *, limit: int = 20) -> QuerySet[RemediationAction]:
    """The repository's newest ``limit`` actions."""
    return (
        RemediationAction.objects.filter(repository=repository)
        .select_related("tag", "requested_by", "policy", "repository", "build_target")
        .order_by("-id")[:limit]
    )


def finding_actions(finding: Finding, *, limit: int = 20) -> QuerySet[RemediationAction]:
    """The newest ``limit`` actions covering the finding."""
    return finding.actions.select_related("tag", "repository", "build_target").order_by("-id")[
        :limit
    ]


def finding_last_decision(finding: Finding) -> AuditEvent | None:
    """The audit event of the latest risk decision about the finding (accept, false
    positive, reopen), with who made it."""
    return (
        AuditEvent.objects.filter(
            kind=AuditEvent.Kind.FINDING, object_type="finding", object_id=str(finding.pk)
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )


def audit_events_listed() -> QuerySet[AuditEvent]:
    """Audit events with their actor and action (the audit page's list)."""
    return AuditEvent.objects.select_related("actor", "action")


AUDIT_EXPORT_COLUMNS = (
    "id", "created_at", "kind", "actor", "object_type", "object_id", "action", "from_state",
    "to_state", "message",
)  # fmt: skip


def audit_export_rows(queryset: QuerySet[AuditEvent]) -> Iterator[tuple]:
    """The events of ``queryset``, newest first, as AUDIT_EXPORT_COLUMNS tuples, read in
    chunks (no model instances, memory flat however many there are)."""
    fields = (
        "id", "created_at", "kind", "actor_label", "object_type", "object_id", "action_id",
        "from_state", "to_state", "message",
    )  # fmt: skip
    rows = queryset.order_by("-id").values_list(*fields)
    return rows.iterator(chunk_size=2000)


def actions_requesters(actions: Iterable[RemediationAction]) -> dict[int, set[int]]:
    """User ids that asked for each action, keyed by action id: one query for them all."""
    actions = list(actions)
    found: dict[int, set[int]] = {a.pk: set() for a in actions}
    for action in actions:
        if action.requested_by_id is not None:
            found[action.pk].add(action.requested_by_id)
    if not found:
        return found
    pairs = (
        AuditEvent.objects.filter(
            action_id__in=list(found),
            kind=AuditEvent.Kind.TRANSITION,
            to_state__in=REQUESTING_STATES,
            actor_id__isnull=False,
        )
        .values_list("action_id", "actor_id")
        .distinct()
    )
    for action_id, actor_id in pairs:
        found[action_id].add(actor_id)
    return found


def action_requesters(action: RemediationAction) -> set[int]:
    """User ids that asked for ``action`` (may neither approve nor reject it)."""
    return actions_requesters([action])[action.pk]
