"""What a policy would have done over past scans: a replay. Pure: no I/O, no ORM.

``replay`` walks the scans of a window in time order. At each scan of a tag:

1. simulated actions of that tag whose findings the scan no longer lists are closed
   (the fix landed);
2. the findings it lists that are *in scope* and not covered by an open simulated
   action are decided with today's rules (``decide``), as the engine decides open
   findings after every scan. In scope: new in the window (first seen in it), listed
   again after a scan of the tag had dropped them, or given a fix in the window;
3. decisions become actions as the engine groups them (``plan``): one per
   (image, tag, kind), a new finding joining the open one.

What it cannot replay is said in docs/policies-and-actions.md: EPSS, KEV and the inventory are
today's, and a simulated action stays open until its findings are gone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from .criteria import FindingFacts
from .remediation import OpenAction, RemediationRule, decide, plan


@dataclass(frozen=True)
class ScanEvent:
    scan_id: int
    at: datetime
    repository: str
    tag: str
    listed: tuple[FindingFacts, ...]


@dataclass
class RuleReplay:
    rule_id: int
    rule_name: str
    action: str
    requires_approval: bool
    actions: int = 0
    findings: int = 0
    images: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Replay:
    scans: int = 0
    decided: int = 0
    """Findings decided (new or changed in the window, not yet covered)."""
    actions: int = 0
    joined: int = 0
    """Findings that joined a simulated action already open (no new action)."""
    approvals: int = 0
    """Actions that a person would have had to approve."""
    images: set[tuple[str, str]] = field(default_factory=set)
    per_day: Counter = field(default_factory=Counter)
    rules: list[RuleReplay] = field(default_factory=list)

    @property
    def peak(self) -> tuple[date | None, int]:
        """The storm: the day with the most new actions, and how many."""
        if not self.per_day:
            return None, 0
        day, count = max(self.per_day.items(), key=lambda item: (item[1], item[0]))
        return day, count


@dataclass
class _Open:
    id: int
    findings: set[int]


def _as_of(facts: FindingFacts, at: datetime) -> FindingFacts:
    """The finding as the scan at ``at`` saw it: a fix published later was not known yet."""
    if facts.fixable and facts.fixable_since is not None and facts.fixable_since > at:
        return facts._replace(fixable=False, fixable_since=None)
    return facts


def replay(
    events: Iterable[ScanEvent],
    rules: Sequence[RemediationRule],
    *,
    since: datetime,
    rule_order: Mapping[int, int] | None = None,
) -> Replay:
    """Replay ``events`` (in time order) against ``rules`` (in order, first match wins)."""
    result = Replay(rules=[RuleReplay(r.id, r.name, r.action, r.requires_approval) for r in rules])
    tally = {r.rule_id: r for r in result.rules}
    open_actions: dict[tuple[str, str, str], _Open] = {}
    covered: set[int] = set()
    in_scope: set[int] = set()
    last_listed: dict[tuple[str, str], set[int]] = {}
    next_id = 0
    for event in events:
        result.scans += 1
        stream = (event.repository, event.tag)
        listed = {f.id for f in event.listed}
        for key in [k for k in open_actions if k[:2] == stream]:
            if not open_actions[key].findings & listed:  # every finding of it is gone
                covered -= open_actions.pop(key).findings
        before = last_listed.get(stream)
        for facts in event.listed:
            fixed_in_window = facts.fixable_since is not None and (
                since <= facts.fixable_since <= event.at
            )
            if (
                facts.first_seen >= since
                or (before is not None and facts.id not in before)
                or fixed_in_window
            ):
                in_scope.add(facts.id)
        last_listed[stream] = listed
        candidates = [
            _as_of(f, event.at) for f in event.listed if f.id in in_scope and f.id not in covered
        ]
        if not candidates:
            continue
        decisions = decide(candidates, rules, now=event.at)
        result.decided += len(candidates)
        joinable = {
            key: OpenAction(action.id, "awaiting_approval")
            for key, action in open_actions.items()
            if key[:2] == stream
        }
        for step in plan(decisions, open_actions=joinable, rule_order=rule_order):
            key = (step.repository, step.tag, step.kind)
            new = set(step.finding_ids) - covered
            covered |= new
            rule = tally[step.first.rule_id]
            rule.findings += len(new)
            if step.join_action_id is not None:
                open_actions[key].findings |= new
                result.joined += len(new)
                continue
            next_id += 1
            open_actions[key] = _Open(next_id, set(step.finding_ids))
            result.actions += 1
            result.approvals += step.requires_approval
            result.images.add(stream)
            result.per_day[event.at.date()] += 1
            rule.actions += 1
            rule.images.add(stream)
    return result
