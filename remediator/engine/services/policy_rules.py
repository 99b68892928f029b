"""Stored policies as the rule language's plain rules: read field by field, by name.

Both kinds of policy store their criteria in the same columns (``PolicyCriteria``), so
one reader serves both: every field of the rule's dataclass is read from the model
field of that name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models

from remediator.engine.models import AdmissionPolicy, Policy
from remediator.engine.rules.admission import AdmissionRule
from remediator.engine.rules.remediation import RemediationRule

R = TypeVar("R")


def rule_from_row(rule_type: type[R], row: models.Model) -> R:
    """The pure rule for a stored policy: every field of ``rule_type``, read by name."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(rule_type):  # type: ignore[arg-type]
        value = getattr(row, field.name)
        if isinstance(field.default, tuple):  # the JSON lists (ids, channels)
            value = tuple(str(v) for v in value or ())
        values[field.name] = value
    return rule_type(**values)


def rule_from_policy(policy: Policy) -> RemediationRule:
    return rule_from_row(RemediationRule, policy)


def policies_enabled(*, policy_ids: Iterable[int] | None = None) -> list[Policy]:
    """The remediation rules in the order they are tried."""
    qs = Policy.objects.filter(enabled=True).select_related("owner").order_by("order", "id")
    if policy_ids is not None:
        qs = qs.filter(pk__in=list(policy_ids))
    return list(qs)


def admission_rules_enabled() -> list[AdmissionRule]:
    """The enabled admission policies as rules, in order (one query)."""
    policies = AdmissionPolicy.objects.filter(enabled=True).order_by("order", "id")
    return [rule_from_row(AdmissionRule, policy) for policy in policies]
