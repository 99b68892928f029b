"""The conditions every kind of policy sets on findings, and the one matcher. Pure.

A remediation policy and an admission policy select findings with the same
:class:`Criteria` (same names, same meaning, same YAML keys); they differ only in what
they do with a match (an action, or a denial). ``criteria_match`` is the whole test;
its three parts are apart for callers that share work: ``criteria_where`` (the image
and where it runs: once per image), ``criteria_holds`` (the finding's own conditions)
and ``criteria_due`` (the conditions that depend on the clock).

Where an image runs: remediation reads the namespaces the inventory saw it running in
(``FindingFacts.namespaces``); admission passes the namespace under review, where the
image is about to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import NamedTuple

from remediator.core.severity import severity_rank

WONT_FIX_STATUSES = frozenset({"will_not_fix", "end_of_life"})


class FindingFacts(NamedTuple):
    """What a rule reads of one finding: built from finding rows by one loader
    (``engine/services/finding_facts.py``) for every kind of policy; a named tuple, as
    thousands are built per evaluation. Fields not loaded keep their defaults."""

    id: int = 0
    tag_id: int = 0
    repository: str = ""
    """"registry/name", e.g. "docker.io/library/alpine"."""
    tag: str = ""
    vulnerability: str = ""
    """The CVE / GHSA / … id."""
    package: str = ""
    severity: str = "unknown"
    fixable: bool = False
    """A fixed version is known now."""
    fixable_since: datetime | None = None
    """When a scan first reported a fixed version."""
    vendor_status: str = ""
    first_seen: datetime | None = None
    kev: bool = False
    """Listed in CISA's KEV catalogue."""
    epss: float | None = None
    namespaces: tuple[str, ...] = ()
    """Where the inventory saw the image running recently; empty: not seen running."""
    status: str = "open"
    accepted_until: datetime | None = None
    vendor_not_affected: bool = False
    """A trusted vendor's VEX statement marks it not affected (and none marks otherwise)."""


@dataclass(frozen=True, kw_only=True)
class Criteria:
    """Which findings a policy is about. An empty (default) condition always holds."""

    min_severity: str = "unknown"
    fix_available: bool | None = None
    """True: only fixable findings; False: only unfixable; None: either."""
    fix_grace_days: int = 0
    """A fixable finding matches once its fix has been known this many days."""
    include_wont_fix: bool = False
    """False: vendor status will_not_fix / end_of_life never matches."""
    package_glob: str = ""
    image_glob: str = ""
    vulnerability_ids: tuple[str, ...] = ()
    min_age_days: int = 0
    kev: bool = False
    """Only known-exploited vulnerabilities."""
    min_epss: float | None = None
    running: bool = False
    """Only images that run (seen by the inventory, or being admitted)."""
    namespace_glob: str = ""
    """Only images running in a matching namespace (implies running)."""
    vendor_not_affected: bool | None = None
    """False: only findings no trusted vendor marks not affected (VEX); True: only those
    one does; None: either."""


def image_matches(glob: str, repository: str) -> bool:
    """fnmatch over "registry/name", over "name" alone, and "alpine" for library/alpine."""
    _, _, name = repository.partition("/")
    candidates = [repository, name]
    if name.startswith("library/"):
        candidates.append(name.removeprefix("library/"))
    return any(fnmatchcase(candidate, glob) for candidate in candidates if candidate)


def _normal_status(status: str) -> str:
    return (status or "").strip().lower().replace(" ", "_").replace("-", "_")


def criteria_where(
    criteria: Criteria, *, repositories: Iterable[str], namespaces: Sequence[str]
) -> bool:
    """The image conditions: its name (any of ``repositories``) and where it runs."""
    if criteria.image_glob and not any(
        image_matches(criteria.image_glob, name) for name in repositories
    ):
        return False
    if (criteria.running or criteria.namespace_glob) and not namespaces:
        return False
    return not criteria.namespace_glob or any(
        fnmatchcase(ns, criteria.namespace_glob) for ns in namespaces
    )


def criteria_holds(criteria: Criteria, facts: FindingFacts) -> bool:
    """The finding's own conditions that do not depend on the clock."""
    if severity_rank(facts.severity) < severity_rank(criteria.min_severity):
        return False
    if criteria.fix_available is not None and facts.fixable != criteria.fix_available:
        return False
    if not criteria.include_wont_fix and _normal_status(facts.vendor_status) in WONT_FIX_STATUSES:
        return False
    if criteria.package_glob and not fnmatchcase(
        facts.package.lower(), criteria.package_glob.lower()
    ):
        return False
    if criteria.kev and not facts.kev:
        return False
    if criteria.min_epss is not None and (facts.epss is None or facts.epss < criteria.min_epss):
        return False
    if (
        criteria.vendor_not_affected is not None
        and facts.vendor_not_affected != criteria.vendor_not_affected
    ):
        return False
    return not criteria.vulnerability_ids or facts.vulnerability.upper() in {
        v.upper() for v in criteria.vulnerability_ids
    }


def criteria_due(
    criteria: Criteria,
    *,
    fixable: bool,
    fixable_since: datetime | None,
    first_seen: datetime | None,
    now: datetime,
) -> bool:
    """The age conditions: seen long enough, and any fix known for long enough (since
    ``fixable_since``, or ``first_seen`` when that is unknown)."""
    if criteria.min_age_days and (
        first_seen is None or now - first_seen < timedelta(days=criteria.min_age_days)
    ):
        return False
    if criteria.fix_grace_days and fixable:
        since = fixable_since or first_seen
        if since is None or since + timedelta(days=criteria.fix_grace_days) > now:
            return False  # the fix is too new: not yet
    return True


def criteria_match_timeless(
    criteria: Criteria, facts: FindingFacts, *, namespace: str | None = None
) -> bool:
    """Every condition but the age ones (``criteria_due``)."""
    namespaces = facts.namespaces if namespace is None else (namespace,)
    return criteria_where(
        criteria, repositories=(facts.repository,), namespaces=namespaces
    ) and criteria_holds(criteria, facts)


def criteria_match(
    criteria: Criteria, facts: FindingFacts, *, now: datetime, namespace: str | None = None
) -> bool:
    """Does this finding meet every condition? ``namespace``: where the image is being
    admitted (admission); None: where the inventory saw it running (``facts.namespaces``)."""
    return criteria_match_timeless(criteria, facts, namespace=namespace) and criteria_due(
        criteria,
        fixable=facts.fixable,
        fixable_since=facts.fixable_since,
        first_seen=facts.first_seen,
        now=now,
    )


def criteria_timed(criteria: Criteria) -> bool:
    """Whether ``criteria_due`` can be false for these criteria."""
    return bool(criteria.min_age_days or criteria.fix_grace_days)


def criteria_fields(criteria: Iterable[Criteria]) -> frozenset[str]:
    """The FindingFacts fields ``criteria_match`` reads for these criteria.

    Kept next to the matcher: callers that scan many findings read only these columns,
    and may reuse one result for findings equal in all of them.
    """
    needed = {"severity"}
    for c in criteria:
        if not c.include_wont_fix:
            needed.add("vendor_status")
        if c.fix_available is not None:
            needed.add("fixable")
        if c.package_glob:
            needed.add("package")
        if c.image_glob:
            needed.add("repository")
        if c.vulnerability_ids:
            needed.add("vulnerability")
        if c.min_age_days:
            needed.add("first_seen")
        if c.fix_grace_days:
            needed.update(("fixable", "fixable_since", "first_seen"))
        if c.kev:
            needed.add("kev")
        if c.min_epss is not None:
            needed.add("epss")
        if c.running or c.namespace_glob:
            needed.add("namespaces")
        if c.vendor_not_affected is not None:
            needed.add("vendor_not_affected")
    return frozenset(needed)
