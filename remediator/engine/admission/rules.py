"""Admission decisions over plain data: pure, no Django.

``decide(images, rules, ...)`` answers for one pod spec: every image is checked
against every admission policy that applies to its namespace and repository; an
``enforce`` policy with matching findings denies, a ``warn`` policy adds a warning.
Findings under an unexpired risk acceptance and false positives never match; a
break-glass reason turns a denial into an allowance with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from remediator.engine.policy import image_matches

ENFORCE, WARN = "enforce", "warn"
ALLOW, DENY = "allow", "deny"
UNKNOWN_MODES = (ALLOW, WARN, DENY)
MAX_CVES_NAMED = 5


@dataclass(frozen=True)
class FindingFact:
    vulnerability: str
    severity: str
    severity_rank: int
    package: str = ""
    fixable_since: datetime | None = None
    kev: bool = False
    epss: float | None = None
    status: str = "open"
    accepted_until: datetime | None = None


@dataclass(frozen=True)
class ActionFact:
    """The open remediation action of the image's tag, to name in a denial."""

    id: int
    kind: str
    state: str
    url: str = ""

    def label(self) -> str:
        text = f"{self.kind} #{self.id} {self.state.replace('_', ' ')}"
        return f"{text} ({self.url})" if self.url else text


@dataclass(frozen=True)
class ImageFacts:
    """What the newest scans of one digest found: the findings it still carries."""

    repository: str
    digest: str
    findings: tuple[FindingFact, ...] = ()
    action: ActionFact | None = None


@dataclass(frozen=True)
class Rule:
    """One admission policy as plain data; empty/None conditions match everything."""

    name: str
    mode: str = ENFORCE
    min_severity_rank: int = 0
    fixable_for_days: int | None = None
    kev: bool = False
    min_epss: float | None = None
    image_glob: str = ""
    namespace_glob: str = ""


@dataclass(frozen=True)
class ImageUnderReview:
    container: str
    reference: str
    facts: ImageFacts | None = None
    """None: never scanned (or not a valid reference: ``problem`` says why)."""
    problem: str = ""


@dataclass
class Decision:
    allowed: bool
    outcome: str
    """allow | warn | deny | break_glass"""
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    vulnerabilities: list[str] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)
    """Per image, for the audit trail: reference, digest, verdict, policies, CVEs."""


def _accepted(fact: FindingFact, now: datetime) -> bool:
    if fact.status == "false_positive":
        return True
    return fact.status == "accepted" and (fact.accepted_until is None or fact.accepted_until > now)


def matches(rule: Rule, fact: FindingFact, now: datetime) -> bool:
    """Does this finding meet every condition of the rule?"""
    if fact.severity_rank < rule.min_severity_rank:
        return False
    if rule.fixable_for_days is not None:
        if fact.fixable_since is None:
            return False
        if fact.fixable_since > now - timedelta(days=rule.fixable_for_days):
            return False
    if rule.kev and not fact.kev:
        return False
    return rule.min_epss is None or (fact.epss is not None and fact.epss >= rule.min_epss)


def applies(rule: Rule, *, namespace: str, repository: str) -> bool:
    if rule.namespace_glob and not fnmatchcase(namespace, rule.namespace_glob):
        return False
    return not rule.image_glob or image_matches(rule.image_glob, repository)


def _cve_list(facts: list[FindingFact]) -> str:
    ordered = sorted(facts, key=lambda f: (-f.severity_rank, not f.kev, f.vulnerability))
    names, seen = [], set()
    for fact in ordered:  # each CVE once, at its worst severity (several packages may have it)
        if fact.vulnerability not in seen:
            seen.add(fact.vulnerability)
            names.append(f"{fact.vulnerability} ({fact.severity}{', KEV' if fact.kev else ''})")
    more = len(names) - MAX_CVES_NAMED
    return ", ".join(names[:MAX_CVES_NAMED]) + (f" and {more} more" if more > 0 else "")


def _check_image(
    image: ImageUnderReview, rules: list[Rule], namespace: str, now: datetime, unknown: str
) -> tuple[list[str], list[str], dict]:
    """(denials, warnings, audit summary) for one image."""
    summary: dict = {"container": image.container, "image": image.reference}
    if image.facts is None:
        why = image.problem or "never scanned by any scanner Remediator hears from"
        summary.update(verdict=f"unknown:{unknown}")
        text = f"image {image.reference} (container {image.container}): {why}"
        if unknown == DENY:
            return [text], [], summary
        return [], ([text] if unknown == WARN else []), summary
    facts = image.facts
    summary.update(digest=facts.digest, policies=[], vulnerabilities=[])
    denials, warnings, accepted = [], [], 0
    for rule in rules:
        if not applies(rule, namespace=namespace, repository=facts.repository):
            continue
        hits = [f for f in facts.findings if matches(rule, f, now)]
        kept = [f for f in hits if not _accepted(f, now)]
        accepted += len(hits) - len(kept)
        if not kept:
            continue
        summary["policies"].append(rule.name)
        summary["vulnerabilities"] += sorted({f.vulnerability for f in kept})
        text = (
            f"image {facts.repository}@{facts.digest[:19]}… (container {image.container}) "
            f"has {_cve_list(kept)} (admission policy {rule.name})"
        )
        (denials if rule.mode == ENFORCE else warnings).append(text)
    if (denials or warnings) and facts.action is not None:
        note = f"fix under way: {facts.action.label()}"
        (denials if denials else warnings).append(note)
    summary["accepted"] = accepted
    summary["verdict"] = DENY if denials else (WARN if warnings else ALLOW)
    return denials, warnings, summary


def decide(
    images: list[ImageUnderReview],
    rules: list[Rule],
    *,
    namespace: str,
    now: datetime,
    unknown: str = WARN,
    break_glass: str = "",
    break_glass_refused: str = "",
) -> Decision:
    """The answer for one pod spec (the containers to judge). ``break_glass``: a reason
    that turns a denial into an allowance; ``break_glass_refused``: why an annotation
    was not honoured, added to a denial."""
    denials: list[str] = []
    decision = Decision(allowed=True, outcome=ALLOW)
    for image in images:
        denied, warned, summary = _check_image(image, rules, namespace, now, unknown)
        denials += denied
        decision.warnings += warned
        decision.images.append(summary)
        for cve in summary.get("vulnerabilities", []):
            if cve not in decision.vulnerabilities:
                decision.vulnerabilities.append(cve)
    if denials and break_glass:
        decision.outcome = "break_glass"
        decision.warnings = [
            f"break-glass ({break_glass}): allowed although Remediator would deny it",
            *denials,
            *decision.warnings,
        ]
        decision.message = "allowed by break-glass annotation: " + break_glass
    elif denials:
        decision.allowed, decision.outcome = False, DENY
        decision.message = "Remediator denied this: " + "; ".join(denials)
        if break_glass_refused:
            decision.message += f"; break-glass not honoured: {break_glass_refused}"
    elif decision.warnings:
        decision.outcome = WARN
    return decision
