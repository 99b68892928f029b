"""Policy backtest: replay the stored scans of the last N days against policies
(``remediator.engine.rules.replay``), next to what the policies really did then."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from findings.models import Finding, Scan
from findings.seen import scan_finding_id_sets
from remediator.engine.models import Policy, RemediationAction
from remediator.engine.rules.criteria import FindingFacts
from remediator.engine.rules.remediation import RemediationRule
from remediator.engine.rules.replay import Replay, ScanEvent, replay

from .finding_facts import facts_iter
from .policy_rules import policies_enabled, rule_from_policy

MAX_DAYS = 365
SCAN_CHUNK = 500


@dataclass(frozen=True)
class Actual:
    """The policies' real actions created in the window."""

    actions: int
    images: int
    approvals: int
    per_day: Counter

    @property
    def peak(self) -> tuple[date | None, int]:
        if not self.per_day:
            return None, 0
        return max(self.per_day.items(), key=lambda item: (item[1], item[0]))


@dataclass(frozen=True)
class DayRow:
    day: date
    simulated: int
    actual: int


@dataclass(frozen=True)
class Backtest:
    policies: list[Policy]
    days: int
    since: datetime
    until: datetime
    replay: Replay
    actual: Actual

    @property
    def daily(self) -> list[DayRow]:
        """Every day of the window, oldest first."""
        first = timezone.localtime(self.since).date()
        last = timezone.localtime(self.until).date()
        return [
            DayRow(day, self.replay.per_day.get(day, 0), self.actual.per_day.get(day, 0))
            for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
        ]


def _events(since: datetime, until: datetime, rules: list[RemediationRule]) -> Iterator[ScanEvent]:
    """Every successful, current scan of the window in time order, with its findings' facts."""
    rows = list(
        Scan.objects.filter(scanned_at__gte=since, scanned_at__lte=until, superseded=False)
        .filter(failure="")
        .order_by("scanned_at", "id")
        .values_list(
            "id", "scanned_at", "tag__repository__registry", "tag__repository__name", "tag__name"
        )
    )
    facts: dict[int, FindingFacts] = {}
    for start in range(0, len(rows), SCAN_CHUNK):
        chunk = rows[start : start + SCAN_CHUNK]
        listed = scan_finding_id_sets(row[0] for row in chunk)
        missing = {i for ids in listed.values() for i in ids} - facts.keys()
        if missing:
            for fact in facts_iter(Finding.objects.filter(pk__in=missing), rules=rules):
                facts[fact.id] = fact
        for scan_id, at, registry, name, tag in chunk:
            yield ScanEvent(
                scan_id=scan_id,
                at=at,
                repository=f"{registry}/{name}",
                tag=tag,
                listed=tuple(facts[i] for i in sorted(listed[scan_id]) if i in facts),
            )


def _actual(policy_ids: list[int], since: datetime, until: datetime) -> Actual:
    actions = RemediationAction.objects.filter(
        policy_id__in=policy_ids, created_at__gte=since, created_at__lte=until
    ).order_by()
    totals = actions.aggregate(
        n=Count("id"),
        images=Count("tag", distinct=True),
        approvals=Count("id", filter=Q(requires_approval=True)),
    )
    per_day = Counter(
        {
            row["day"]: row["n"]
            for row in actions.annotate(day=TruncDate("created_at"))
            .values("day")
            .annotate(n=Count("id"))
        }
    )
    return Actual(totals["n"], totals["images"], totals["approvals"], per_day)


def policy_backtest(
    *, days: int, policy_ids: list[int] | None = None, now: datetime | None = None
) -> Backtest:
    """Replay the last ``days`` days against the named policies (enabled or not, in their
    order), or against every enabled policy; and count what they really did then."""
    days = max(1, min(days, MAX_DAYS))
    until = now or timezone.now()
    since = until - timedelta(days=days)
    if policy_ids is None:
        policies = policies_enabled()
    else:
        policies = list(Policy.objects.filter(pk__in=policy_ids).order_by("order", "id"))
    rules = [rule_from_policy(p) for p in policies]
    result = replay(
        _events(since, until, rules),
        rules,
        since=since,
        rule_order={p.pk: p.order for p in policies},
    )
    return Backtest(
        policies=policies,
        days=days,
        since=since,
        until=until,
        replay=result,
        actual=_actual([p.pk for p in policies], since, until),
    )
