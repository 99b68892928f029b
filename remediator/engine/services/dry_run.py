"""What the policy would do to today's open findings, without doing it.

One pass over the open findings reading only the columns the enabled rules look
at (``remediator.engine.rules.criteria.criteria_fields``), as plain tuples. Findings equal in all
of those columns match the same rules, so the pure policy runs once per distinct
combination, not once per finding; only the age conditions of rules that have
them (``criteria_due``) are checked per finding.
The examples shown per rule are read afterwards, by id, in one small query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import BigIntegerField, CharField, F, Func, Value
from django.db.models.functions import Concat
from django.utils import timezone

from findings.models import Finding
from findings.vex.selectors import trusted_not_affected_ids
from remediator.cluster.selectors import running_namespaces
from remediator.engine.rules.criteria import (
    FindingFacts,
    criteria_due,
    criteria_fields,
    criteria_match_timeless,
    criteria_timed,
)
from remediator.engine.rules.remediation import RemediationRule

from .policy_rules import policies_enabled, rule_from_policy

SAMPLES = 5
CHUNK_SIZE = 10_000

_COLUMN = {
    "repository": "_repository",
    "vulnerability": "vulnerability_id",
    "kev": "vulnerability__intel__kev",
    "epss": "vulnerability__intel__epss_score",
    "namespaces": "repository_id",
    "vendor_not_affected": "id",
}
"""FindingFacts field -> the column read for it, where the names differ."""


@dataclass
class RuleDryRun:
    """One rule's share of the open findings. ``rule_id`` None: the findings no rule matched."""

    rule_id: int | None
    rule_name: str
    action: str = ""
    requires_approval: bool = False
    findings: int = 0
    images: int = 0
    """Distinct repository:tag streams."""
    samples: list[dict] = field(default_factory=list)


class _Plans:
    """For a row of time-independent fact columns: the first matching rule's index, or the
    rules to try in order with their age conditions (``(index, rule)``; rule None: no
    condition left). ``len(rules)`` stands for "no rule matched"."""

    def __init__(
        self,
        rules: Sequence[RemediationRule],
        fields: Sequence[str],
        namespaces: dict[int, tuple[str, ...]] | None = None,
    ) -> None:
        self.rules, self.fields = rules, fields
        self.namespaces = namespaces or {}

    def __call__(self, values: tuple) -> int | tuple[tuple[int, RemediationRule | None], ...]:
        read = dict(zip(self.fields, values, strict=True))
        if "namespaces" in read:  # read as the repository id
            read["namespaces"] = self.namespaces.get(read["namespaces"], ())
        if "kev" in read:
            read["kev"] = bool(read["kev"])
        facts = FindingFacts(**read)
        tries: list[tuple[int, RemediationRule | None]] = []
        for index, rule in enumerate(self.rules):
            if criteria_match_timeless(rule, facts):
                if not criteria_timed(rule):
                    tries.append((index, None))
                    break
                tries.append((index, rule))
        else:
            tries.append((len(self.rules), None))
        return tries[0][0] if tries[0][1] is None else tuple(tries)


def policy_dry_run(*, policy_ids: list[int] | None = None) -> list[RuleDryRun]:
    """Each enabled rule in order (first match wins), then the unmatched findings last."""
    rules = [rule_from_policy(p) for p in policies_enabled(policy_ids=policy_ids)]
    results = [RuleDryRun(r.id, r.name, r.action, r.requires_approval) for r in rules]
    results.append(RuleDryRun(None, "(no rule matched)"))
    timed = any(criteria_timed(r) for r in rules)
    fields = sorted(criteria_fields(rules) - {"first_seen", "fixable_since"})
    findings = Finding.objects.open().order_by()
    if "repository" in fields:
        findings = findings.annotate(
            _repository=Concat(
                "repository__registry", Value("/"), "repository__name", output_field=CharField()
            )
        )
    when = _no_conversion
    if timed and connection.vendor == "postgresql":
        # Django's timestamptz loader is pure Python (~15 µs a value): read microseconds.
        findings = findings.annotate(**{f"_{c}": _epoch_us(c) for c in _TIME_COLUMNS})
        when = _from_epoch_us
    lead = ["id", "tag_id", *([_time_column(c, when) for c in _TIME_COLUMNS] if timed else [])]
    columns = [*lead, *(_COLUMN.get(f, f) for f in fields)]
    running = running_namespaces() if "namespaces" in fields else {}
    # read as the finding's id, then as whether a trusted vendor marks it not affected
    vendor_at = fields.index("vendor_not_affected") if "vendor_not_affected" in fields else None
    marked = trusted_not_affected_ids(findings) if vendor_at is not None else set()
    plans, memo = _Plans(rules, fields, running), {}
    fixable_at = fields.index("fixable") if "fixable" in fields else None
    now = timezone.now()
    counts = [0] * len(results)
    tags: list[set[int]] = [set() for _ in results]
    samples: list[list[int]] = [[] for _ in results]
    start = len(lead)
    for row in findings.values_list(*columns).iterator(chunk_size=CHUNK_SIZE):
        key = row[start:]
        if vendor_at is not None:
            key = (*key[:vendor_at], key[vendor_at] in marked, *key[vendor_at + 1 :])
        plan = memo.get(key)
        if plan is None:
            plan = memo[key] = plans(key)
        if plan.__class__ is int:
            index = plan
        else:
            fixable = False if fixable_at is None else key[fixable_at]
            first_seen, fixable_since = when(row[2]), when(row[3])
            for index, rule in plan:  # noqa: B007 (the index of the rule that matched)
                if rule is None or criteria_due(
                    rule,
                    fixable=fixable,
                    fixable_since=fixable_since,
                    first_seen=first_seen,
                    now=now,
                ):
                    break
        counts[index] += 1
        tags[index].add(row[1])
        if len(samples[index]) < SAMPLES:
            samples[index].append(row[0])
    examples = _samples([i for ids in samples for i in ids])
    for result, count, seen, ids in zip(results, counts, tags, samples, strict=True):
        result.findings, result.images = count, len(seen)
        result.samples = [examples[i] for i in ids if i in examples]
    return results


_TIME_COLUMNS = ("first_seen", "fixable_since")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_us(column: str) -> Func:
    return Func(
        F(column),
        template="(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint",
        output_field=BigIntegerField(),
    )


def _from_epoch_us(value: int | None) -> datetime | None:
    return None if value is None else _EPOCH + timedelta(microseconds=value)


def _no_conversion(value: datetime | None) -> datetime | None:
    return value


def _time_column(column: str, when: Callable) -> str:
    return column if when is _no_conversion else f"_{column}"


def _samples(ids: list[int]) -> dict[int, dict]:
    rows = Finding.objects.filter(pk__in=ids).values_list(
        "id",
        "repository__registry",
        "repository__name",
        "tag__name",
        "vulnerability_id",
        "package",
        "severity",
    )
    return {
        pk: {
            "finding_id": pk,
            "image": f"{registry}/{name}:{tag}" if tag else f"{registry}/{name}",
            "vulnerability_id": vulnerability_id,
            "package": package,
            "severity": severity,
        }
        for pk, registry, name, tag, vulnerability_id, package, severity in rows
    }
