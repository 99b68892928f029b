"""Which action each finding gets: ordered rules, first match wins. Pure: no I/O, no ORM.

``decide`` maps facts about findings to decisions; ``plan`` turns decisions into
at most one action per (tag, kind), joining open actions and respecting the
cooldown after a failure. The services read the database and build the inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from remediator.core.severity import severity_rank

ACTIONS = ("rebuild", "pull_request", "rescan", "mark_risky", "notify", "ignore")
WONT_FIX_STATUSES = frozenset({"will_not_fix", "end_of_life"})
JOINABLE_STATES = frozenset({"proposed", "awaiting_approval", "approved"})
"""An open action in one of these states takes new findings; later ones make them wait."""
JOINABLE_BY_KIND = {"pull_request": JOINABLE_STATES | {"dispatched"}}
"""A fix pull request still open (dispatched, not merged) is updated with new findings."""


def joinable(kind: str, state: str) -> bool:
    """Whether an open action of ``kind`` in ``state`` takes new findings."""
    return state in JOINABLE_BY_KIND.get(kind, JOINABLE_STATES)


@dataclass(frozen=True)
class FindingFacts:
    id: int
    repository: str
    """"registry/name", e.g. "docker.io/library/alpine"."""
    tag: str
    vulnerability_id: str
    package: str
    severity: str
    fixable: bool
    fixable_since: datetime | None
    vendor_status: str
    first_seen: datetime
    kev: bool = False
    """Listed in CISA's KEV catalogue."""
    epss: float | None = None
    namespaces: tuple[str, ...] = ()
    """Where the inventory saw the image running recently; empty: not seen running."""


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    min_severity: str = "unknown"
    fix_available: bool | None = None
    """True: only fixable findings; False: only unfixable; None: either."""
    include_wont_fix: bool = False
    package_glob: str = ""
    image_glob: str = ""
    vulnerability_ids: tuple[str, ...] = ()
    min_age_days: int = 0
    fix_grace_days: int = 0
    kev: bool = False
    """Only known-exploited vulnerabilities."""
    min_epss: float | None = None
    running: bool = False
    namespace_glob: str = ""
    """Only images running in a matching namespace (implies running)."""
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


def _normal_status(status: str) -> str:
    return (status or "").strip().lower().replace(" ", "_").replace("-", "_")


def image_matches(glob: str, repository: str) -> bool:
    """fnmatch over "registry/name", over "name" alone, and "alpine" for library/alpine."""
    _, _, name = repository.partition("/")
    candidates = [repository, name]
    if name.startswith("library/"):
        candidates.append(name.removeprefix("library/"))
    return any(fnmatchcase(candidate, glob) for candidate in candidates if candidate)


def rule_matches(rule: Rule, finding: FindingFacts, *, now: datetime) -> bool:
    """Every condition the rule sets must hold; an empty condition always holds."""
    return rule_matches_facts(rule, finding) and rule_due(
        rule,
        fixable=finding.fixable,
        fixable_since=finding.fixable_since,
        first_seen=finding.first_seen,
        now=now,
    )


def rule_matches_facts(rule: Rule, finding: FindingFacts) -> bool:
    """The conditions that do not depend on time (``rule_due`` holds the others)."""
    if severity_rank(finding.severity) < severity_rank(rule.min_severity):
        return False
    if rule.fix_available is not None and finding.fixable != rule.fix_available:
        return False
    if not rule.include_wont_fix and _normal_status(finding.vendor_status) in WONT_FIX_STATUSES:
        return False
    if rule.package_glob and not fnmatchcase(finding.package.lower(), rule.package_glob.lower()):
        return False
    if rule.image_glob and not image_matches(rule.image_glob, finding.repository):
        return False
    if rule.kev and not finding.kev:
        return False
    if rule.min_epss is not None and (finding.epss is None or finding.epss < rule.min_epss):
        return False
    if (rule.running or rule.namespace_glob) and not finding.namespaces:
        return False
    if rule.namespace_glob and not any(
        fnmatchcase(ns, rule.namespace_glob) for ns in finding.namespaces
    ):
        return False
    return not rule.vulnerability_ids or finding.vulnerability_id.upper() in {
        v.upper() for v in rule.vulnerability_ids
    }


def rule_due(
    rule: Rule,
    *,
    fixable: bool,
    fixable_since: datetime | None,
    first_seen: datetime,
    now: datetime,
) -> bool:
    """The age conditions: old enough, and any fix known for long enough."""
    if rule.min_age_days and now - first_seen < timedelta(days=rule.min_age_days):
        return False
    if rule.fix_grace_days and fixable:
        since = fixable_since or first_seen
        if since + timedelta(days=rule.fix_grace_days) > now:
            return False  # the fix is too new: not yet
    return True


def rule_is_timed(rule: Rule) -> bool:
    """Whether ``rule_due`` can be false for this rule."""
    return bool(rule.min_age_days or rule.fix_grace_days)


def fact_fields(rules: Iterable[Rule]) -> frozenset[str]:
    """The FindingFacts fields ``rule_matches`` reads for these rules (never ``id``/``tag``).

    Kept next to ``rule_matches``: callers that scan many findings read only these
    columns, and may reuse one result for findings equal in all of them.
    """
    needed = {"severity"}
    for rule in rules:
        if not rule.include_wont_fix:
            needed.add("vendor_status")
        if rule.fix_available is not None:
            needed.add("fixable")
        if rule.package_glob:
            needed.add("package")
        if rule.image_glob:
            needed.add("repository")
        if rule.vulnerability_ids:
            needed.add("vulnerability_id")
        if rule.min_age_days:
            needed.add("first_seen")
        if rule.fix_grace_days:
            needed.update(("fixable", "fixable_since", "first_seen"))
        if rule.kev:
            needed.add("kev")
        if rule.min_epss is not None:
            needed.add("epss")
        if rule.running or rule.namespace_glob:
            needed.add("namespaces")
    return frozenset(needed)


def decide(
    findings: Iterable[FindingFacts], rules: Iterable[Rule], *, now: datetime
) -> list[Decision]:
    """One decision per finding that some rule matches; the first matching rule wins.

    ``rules`` must already be in order (and only the enabled ones). Findings no
    rule matches are left out; ``ignore`` decisions are included.
    """
    ordered = list(rules)
    decisions: list[Decision] = []
    for finding in findings:
        for rule in ordered:
            if rule_matches(rule, finding, now=now):
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
