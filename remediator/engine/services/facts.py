"""Selectors that turn rows into the policy's plain facts (one query each)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from findings.inventory import running_namespaces
from findings.models import Finding
from remediator.engine.models import Policy
from remediator.engine.policy import FindingFacts, Rule, fact_fields

FACT_FIELDS = (
    "id",
    "repository__registry",
    "repository__name",
    "tag__name",
    "vulnerability_id",
    "package",
    "severity",
    "fixable",
    "fixable_since",
    "vendor_status",
    "first_seen",
    "repository_id",
    "vulnerability__intel__kev",
    "vulnerability__intel__epss_score",
)


def rule_from_policy(policy: Policy) -> Rule:
    """The pure rule for a stored policy: every field of :class:`Rule`, read by name."""
    values = {}
    for field in dataclasses.fields(Rule):
        value = getattr(policy, field.name)
        if isinstance(field.default, tuple):  # the JSON lists (ids, channels)
            value = tuple(str(v) for v in value or ())
        values[field.name] = value
    return Rule(**values)


def policies_enabled(*, policy_ids: Iterable[int] | None = None) -> list[Policy]:
    """The rules in the order they are tried."""
    qs = Policy.objects.filter(enabled=True).select_related("owner").order_by("order", "id")
    if policy_ids is not None:
        qs = qs.filter(pk__in=list(policy_ids))
    return list(qs)


def facts_iter(
    findings: QuerySet[Finding], *, rules: Iterable[Rule], chunk_size: int = 2000
) -> Iterator[FindingFacts]:
    """The facts ``rules`` decide on; where the images run is asked of the inventory only
    when one of them reads it (``running`` / ``namespace_glob``)."""
    inventory = "namespaces" in fact_fields(rules)
    namespaces: dict[int, tuple[str, ...]] = {}
    for row in findings.values(*FACT_FIELDS).iterator(chunk_size=chunk_size):
        repository_id = row["repository_id"]
        if repository_id not in namespaces:
            found = running_namespaces([repository_id]) if inventory else {}
            namespaces[repository_id] = found.get(repository_id, ())
        yield FindingFacts(
            id=row["id"],
            repository=f"{row['repository__registry']}/{row['repository__name']}",
            tag=row["tag__name"],
            vulnerability_id=row["vulnerability_id"],
            package=row["package"],
            severity=row["severity"],
            fixable=row["fixable"],
            fixable_since=row["fixable_since"],
            vendor_status=row["vendor_status"],
            first_seen=row["first_seen"],
            kev=bool(row["vulnerability__intel__kev"]),
            epss=row["vulnerability__intel__epss_score"],
            namespaces=namespaces[repository_id],
        )
