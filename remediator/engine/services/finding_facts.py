"""Finding rows as the rule language's ``FindingFacts``: the one loader for every policy.

Remediation reads the open findings of a tag (after a scan) and the findings of past
scans (backtest); admission, through its batched lookups, the findings the newest scans
of many digests list: all through ``facts_iter``, one query whatever the number of
findings. It reads only the columns asked for and those the rules read
(``criteria_fields``): on PostgreSQL a timestamp costs more to load than the rest of a
row together.
Where an image runs is asked of the inventory only when a rule reads it (``running`` /
``namespace_glob`` of a remediation policy), once per repository. Which findings a trusted
vendor marks not affected (VEX) is asked only when a rule reads it
(``vendor_not_affected``): three queries for all of them, then pure matching.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from findings.models import Finding
from findings.vex.selectors import trusted_not_affected_ids
from remediator.cluster.selectors import running_namespaces
from remediator.engine.rules.criteria import Criteria, FindingFacts, criteria_fields

COLUMNS = {
    "id": "id",
    "tag_id": "tag_id",
    "tag": "tag__name",
    "vulnerability": "vulnerability_id",
    "package": "package",
    "severity": "severity",
    "fixable": "fixable",
    "fixable_since": "fixable_since",
    "vendor_status": "vendor_status",
    "first_seen": "first_seen",
    "status": "status",
    "accepted_until": "accepted_until",
    "kev": "vulnerability__intel__kev",
    "epss": "vulnerability__intel__epss_score",
}
"""FindingFacts field -> its column (``repository`` and ``namespaces`` are read by
repository, once each)."""
REPOSITORY_COLUMNS = ("repository_id", "repository__registry", "repository__name")
EVERY_FIELD = frozenset({*COLUMNS, "repository"})
"""Every field but ``vendor_not_affected``, read only when asked for or a rule reads it."""


def facts_iter(
    findings: QuerySet[Finding],
    *,
    fields: Iterable[str] = EVERY_FIELD,
    rules: Iterable[Criteria] = (),
) -> Iterator[FindingFacts]:
    """The facts of ``findings`` (in the queryset's order): ``fields`` and every field
    ``rules`` read; the others keep their defaults."""
    read = criteria_fields(rules)
    wanted = set(fields) | read
    vendor = "vendor_not_affected" in wanted
    marked = trusted_not_affected_ids(findings) if vendor else set()
    if vendor:
        wanted.add("id")
    plain = [name for name in COLUMNS if name in wanted]
    inventory = "namespaces" in read
    by_repository = inventory or "repository" in wanted
    columns = [COLUMNS[name] for name in plain]
    columns += REPOSITORY_COLUMNS if by_repository else []
    kev = "kev" in wanted
    width = len(plain)
    # repository id -> ("registry/name", the namespaces it runs in), built once each
    repositories: dict[int, tuple[str, tuple[str, ...]]] = {}
    # A client-side cursor: PostgreSQL's server-side one (``iterator()``) plans for the
    # first rows and fetches in round trips, a quarter slower for a tag's findings.
    for row in findings.values_list(*columns):
        values = dict(zip(plain, row, strict=False))  # the repository columns come after
        if kev:
            values["kev"] = bool(values["kev"])
        if vendor:
            values["vendor_not_affected"] = values["id"] in marked
        if by_repository:
            repository_id, registry, name = row[width:]
            known = repositories.get(repository_id)
            if known is None:
                running = running_namespaces([repository_id]) if inventory else {}
                known = repositories[repository_id] = (
                    f"{registry}/{name}",
                    running.get(repository_id, ()),
                )
            values["repository"], values["namespaces"] = known
        yield FindingFacts(**values)
