"""Selectors that turn rows into the policy's plain facts (one query each)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db.models import QuerySet

from findings.models import Finding
from remediator.models import Policy
from remediator.policy import FindingFacts, Rule

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
)


def rule_from_policy(policy: Policy) -> Rule:
    return Rule(
        id=policy.pk,
        name=policy.name,
        min_severity=policy.min_severity,
        fix_available=policy.fix_available,
        include_wont_fix=policy.include_wont_fix,
        package_glob=policy.package_glob,
        image_glob=policy.image_glob,
        vulnerability_ids=tuple(str(v) for v in policy.vulnerability_ids or ()),
        min_age_days=policy.min_age_days,
        fix_grace_days=policy.fix_grace_days,
        action=policy.action,
        requires_approval=policy.requires_approval,
        notify_channels=tuple(str(c) for c in policy.notify_channels or ()),
        build_target_id=policy.build_target_id,
    )


def policies_enabled(*, policy_ids: Iterable[int] | None = None) -> list[Policy]:
    """The rules in the order they are tried."""
    qs = Policy.objects.filter(enabled=True).select_related("owner").order_by("order", "id")
    if policy_ids is not None:
        qs = qs.filter(pk__in=list(policy_ids))
    return list(qs)


def facts_iter(findings: QuerySet[Finding], *, chunk_size: int = 2000) -> Iterator[FindingFacts]:
    for row in findings.values(*FACT_FIELDS).iterator(chunk_size=chunk_size):
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
        )
