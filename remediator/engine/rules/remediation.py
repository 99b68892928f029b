"""Which action each finding gets: ordered rules, first match wins. Pure: no I/O, no ORM.

``decide`` maps facts about findings to decisions (a rule matches by ``criteria_match``,
as an admission policy does); ``plan`` turns decisions into at most one action per
(tag, kind), joining open actions and respecting the cooldown after a failure. The
services read the database and build the inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .criteria import Criteria, FindingFacts, criteria_match

ACTIONS = ("rebuild", "pull_request", "rescan", "mark_risky", "notify", "ignore")
DECIDE_FIELDS = frozenset({"id", "repository", "tag"})
"""The FindingFacts fields ``decide`` reads besides those of the rules' criteria."""
JOINABLE_STATES = frozenset({"proposed", "awaiting_approval", "approved"})
"""An open action in one of these states takes new findings; later ones make them wait."""
JOINABLE_BY_KIND = {"pull_request": JOINABLE_STATES | {"dispatched"}}
"""A fix pull request still open (dispatched, not merged) is updated with new findings."""


def joinable(kind: str, state: str) -> bool:
    """Whether an open action of ``kind`` in ``state`` takes new findings."""
    return state in JOINABLE_BY_KIND.get(kind, JOINABLE_STATES)


@dataclass(frozen=True, kw_only=True)
class RemediationRule(Criteria):
    """One remediation policy as plain data: its criteria, and what a match leads to."""

    id: int
    name: str
    action: str = "notify"
    requires_approval: bool = True
    notify_channels: tuple[str, ...] = ()
    build_target_id: int | None = None


@dataclass(frozen=True)
class Decision:
    finding_id: int
    repository: str
    tag: str
    rule_id: int
    rule_name: str
    action: str
    requires_approval: bool
    notify_channels: tuple[str, ...] = ()
    build_target_id: int | None = None


def decide(
    findings: Iterable[FindingFacts], rules: Iterable[RemediationRule], *, now: datetime
) -> list[Decision]:
    """One decision per finding that some rule matches; the first matching rule wins.

    ``rules`` must already be in order (and only the enabled ones). Findings no
    rule matches are left out; ``ignore`` decisions are included.
    """
    ordered = list(rules)
    decisions: list[Decision] = []
    for finding in findings:
        for rule in ordered:
            if criteria_match(rule, finding, now=now):
                decisions.append(
                    Decision(
                        finding_id=finding.id,
                        repository=finding.repository,
                        tag=finding.tag,
                        rule_id=rule.id,
                        rule_name=rule.name,
                        action=rule.action,
                        requires_approval=rule.requires_approval,
                        notify_channels=tuple(rule.notify_channels),
                        build_target_id=rule.build_target_id,
                    )
                )
                break
    return decisions


@dataclass(frozen=True)
class OpenAction:
    id: int
    state: str


@dataclass(frozen=True)
class Plan:
    """What to do for one (repository, tag, kind)."""

    repository: str
    tag: str
    kind: str
    finding_ids: tuple[int, ...]
    decisions: tuple[Decision, ...] = field(repr=False, default=())
    join_action_id: int | None = None
    """Add the findings to this open action instead of creating one."""
    wait: str = ""
    """Non-empty: do nothing now, and why."""

    @property
    def requires_approval(self) -> bool:
        return any(d.requires_approval for d in self.decisions)

    @property
    def notify_channels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for d in self.decisions for c in d.notify_channels))

    @property
    def first(self) -> Decision:
        """The decision of the earliest rule: its policy and build target lead the action."""
        return self.decisions[0]


Key = tuple[str, str, str]


def plan(
    decisions: Iterable[Decision],
    *,
    open_actions: Mapping[Key, OpenAction],
    cooling_down: Iterable[Key] = (),
    rule_order: Mapping[int, int] | None = None,
) -> list[Plan]:
    """No storms: at most one action per (repository, tag, kind).

    An open action in a joinable state takes the new findings; a later one
    (dispatched, running, succeeded) makes them wait for the verification
    scan; a recent failure (``cooling_down``) makes them wait for the cooldown.
    ``ignore`` decisions produce no plan.
    """
    order = rule_order or {}
    cooling = set(cooling_down)
    grouped: dict[Key, list[Decision]] = {}
    for decision in decisions:
        if decision.action == "ignore":
            continue
        grouped.setdefault((decision.repository, decision.tag, decision.action), []).append(
            decision
        )
    plans = []
    for key, group in grouped.items():
        group.sort(key=lambda d: (order.get(d.rule_id, 0), d.rule_id, d.finding_id))
        repository, tag, kind = key
        ids = tuple(sorted({d.finding_id for d in group}))
        common = {"repository": repository, "tag": tag, "kind": kind, "finding_ids": ids}
        existing = open_actions.get(key)
        if existing is not None and joinable(kind, existing.state):
            plans.append(Plan(**common, decisions=tuple(group), join_action_id=existing.id))
        elif existing is not None:
            reason = f"action {existing.id} is {existing.state}; waiting for its verification"
            plans.append(Plan(**common, decisions=tuple(group), wait=reason))
        elif key in cooling:
            plans.append(Plan(**common, decisions=tuple(group), wait="cooling down after failure"))
        else:
            plans.append(Plan(**common, decisions=tuple(group)))
    return plans
