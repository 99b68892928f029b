"""Admission decisions over plain data: pure, no Django.

``decide(images, rules, ...)`` answers for one pod spec: every image is checked
against every admission policy by the criteria remediation policies use too
(``criteria.py``): the image conditions once per image, with the namespace under
review as where it runs, then each finding; an ``enforce`` policy with matching
findings denies, a ``warn`` policy adds a warning.
Findings under an unexpired risk acceptance and false positives never match; a
break-glass reason turns a denial into an allowance with a warning. A policy that
requires digests judges the reference only: a tag-only image is denied (or warned).
An image is judged by its digest's findings wherever that digest was scanned, and a tag
whose registry could not say which digest it names now carries a warning (and, by
``ADMISSION_UNVERIFIED_TAGS``, the answer for an unknown image).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from findings.parsers.images import try_image_reference
from remediator.core.severity import severity_rank

from .criteria import Criteria, FindingFacts, criteria_due, criteria_holds, criteria_where

ENFORCE, WARN = "enforce", "warn"
ALLOW, DENY = "allow", "deny"
UNKNOWN_MODES = (ALLOW, WARN, DENY)
MAX_CVES_NAMED = 5
DECIDE_FIELDS = frozenset({"vulnerability", "severity", "kev", "status", "accepted_until"})
"""The FindingFacts fields ``decide`` reads besides those of the rules' criteria."""


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
    findings: tuple[FindingFacts, ...] = ()
    action: ActionFact | None = None
    scanned_as: tuple[str, ...] = ()
    """Where the findings come from, when not (only) under ``repository``: the same
    digest scanned under another name or through a mirror."""
    unverified: str = ""
    """Why the registry could not say which digest the tag names now: ``digest`` is
    then the one the tag had at its last scan."""
    unverified_unknown: bool = False
    """An unverified tag is also answered as an unknown image (findings still deny)."""


@dataclass(frozen=True)
class AdmissionRule(Criteria):
    """One admission policy as plain data: its criteria, and how a match is answered."""

    name: str
    mode: str = ENFORCE
    require_digest: bool = False
    """Judges the reference only: an image given by tag alone matches."""


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


def _accepted(fact: FindingFacts, now: datetime) -> bool:
    if fact.status == "false_positive":
        return True
    return fact.status == "accepted" and (fact.accepted_until is None or fact.accepted_until > now)


def applies(rule: AdmissionRule, *, namespace: str, repositories: tuple[str, ...]) -> bool:
    """The image conditions, for an image known under ``repositories`` and admitted to
    ``namespace`` (where it is about to run)."""
    return criteria_where(rule, repositories=repositories, namespaces=(namespace,))


def matches(rule: AdmissionRule, fact: FindingFacts, now: datetime) -> bool:
    """The finding conditions (the image ones are ``applies``)."""
    return criteria_holds(rule, fact) and criteria_due(
        rule,
        fixable=fact.fixable,
        fixable_since=fact.fixable_since,
        first_seen=fact.first_seen,
        now=now,
    )


def policy_hits(
    rule: AdmissionRule, facts: ImageFacts, now: datetime
) -> tuple[list[FindingFacts], int]:
    """(the findings of ``facts`` that ``rule`` matches and no risk decision covers, how
    many it matched that an unexpired acceptance or a false positive does cover). The
    image conditions (``applies``) are the caller's."""
    hits = [f for f in facts.findings if matches(rule, f, now)]
    kept = [f for f in hits if not _accepted(f, now)]
    return kept, len(hits) - len(kept)


def tag_only_name(reference: str) -> str:
    """The repository of a reference given by tag alone ("registry/name"); '' when it
    carries a digest or is not a valid reference (policies that require a digest)."""
    ref = try_image_reference(reference, strict=True)
    return ref.name if ref is not None and not ref.digest else ""


def worst_first(facts: list[FindingFacts]) -> list[FindingFacts]:
    """Each CVE once, at its worst severity (several packages may have it), worst first."""
    ordered = sorted(facts, key=lambda f: (-severity_rank(f.severity), not f.kev, f.vulnerability))
    first: dict[str, FindingFacts] = {}
    for fact in ordered:
        first.setdefault(fact.vulnerability, fact)
    return list(first.values())


def cve_list(facts: list[FindingFacts]) -> str:
    names = [
        f"{fact.vulnerability} ({fact.severity}{', KEV' if fact.kev else ''})"
        for fact in worst_first(facts)
    ]
    more = len(names) - MAX_CVES_NAMED
    return ", ".join(names[:MAX_CVES_NAMED]) + (f" and {more} more" if more > 0 else "")


def _digest_required(
    image: ImageUnderReview, rules: list[AdmissionRule], namespace: str
) -> tuple[list[str], list[str], list[str]]:
    """(denials, warnings, policy names) of the policies that require a digest, for an
    image given by tag only; each shows the ``@sha256:`` form to use."""
    name = tag_only_name(image.reference)
    if not name:
        return [], [], []
    denials, warnings, names = [], [], []
    facts = image.facts
    digest = facts.digest if facts is not None and facts.digest else "sha256:<digest>"
    for rule in rules:
        if rule.require_digest and applies(rule, namespace=namespace, repositories=(name,)):
            names.append(rule.name)
            text = (
                f"image {image.reference} (container {image.container}) is given by tag "
                f"only; admission policy {rule.name} requires a digest: {name}@{digest}"
            )
            (denials if rule.mode == ENFORCE else warnings).append(text)
    return denials, warnings, names


def _check_unknown(
    image: ImageUnderReview, unknown: str, summary: dict
) -> tuple[list[str], list[str], dict]:
    why = image.problem or "never scanned by any scanner Remediator hears from"
    summary.update(verdict=f"unknown:{unknown}")
    text = f"image {image.reference} (container {image.container}): {why}"
    if unknown == DENY:
        return [text], [], summary
    return [], ([text] if unknown == WARN else []), summary


def _unverified(image: ImageUnderReview, facts: ImageFacts, unknown: str) -> tuple[str, str]:
    """(denial, warning) of a tag whose current digest the registry could not give."""
    text = (
        f"image {image.reference} (container {image.container}): its registry could not "
        f"say which digest the tag names now ({facts.unverified}); judged by the digest it "
        f"had when last scanned, {facts.digest[:19]}…"
    )
    if facts.unverified_unknown and unknown == DENY:
        return f"{text}, and answered as an unknown image", ""
    return "", text


def _check_image(
    image: ImageUnderReview, rules: list[AdmissionRule], namespace: str, now: datetime, unknown: str
) -> tuple[list[str], list[str], dict]:
    """(denials, warnings, audit summary) for one image."""
    summary: dict = {"container": image.container, "image": image.reference}
    pin_denials, pin_warnings, pinned_by = _digest_required(image, rules, namespace)
    if pinned_by:
        summary["digest_required_by"] = pinned_by
    rules = [rule for rule in rules if not rule.require_digest]
    if image.facts is None:
        denials, warnings, summary = _check_unknown(image, unknown, summary)
        denials, warnings = pin_denials + denials, pin_warnings + warnings
        if pin_denials:
            summary["verdict"] = DENY
        return denials, warnings, summary
    facts = image.facts
    summary.update(digest=facts.digest, policies=[*pinned_by], vulnerabilities=[])
    if facts.scanned_as:
        summary["scanned_as"] = list(facts.scanned_as)
    denials, warnings, accepted = pin_denials, pin_warnings, 0
    if facts.unverified:
        summary["unverified"] = facts.unverified
        denial, warning = _unverified(image, facts, unknown)
        denials += [denial] if denial else []
        warnings += [warning] if warning else []
    scanned = f"; scanned as {', '.join(facts.scanned_as)}" if facts.scanned_as else ""
    matched = False
    names = (facts.repository, *facts.scanned_as)
    for rule in rules:
        if not applies(rule, namespace=namespace, repositories=names):
            continue
        kept, covered = policy_hits(rule, facts, now)
        accepted += covered
        if not kept:
            continue
        matched = True
        summary["policies"].append(rule.name)
        summary["vulnerabilities"] += sorted({f.vulnerability for f in kept})
        text = (
            f"image {facts.repository}@{facts.digest[:19]}… (container {image.container}"
            f"{scanned}) has {cve_list(kept)} (admission policy {rule.name})"
        )
        (denials if rule.mode == ENFORCE else warnings).append(text)
    if matched and facts.action is not None:
        note = f"fix under way: {facts.action.label()}"
        (denials if denials else warnings).append(note)
    summary["accepted"] = accepted
    summary["verdict"] = DENY if denials else (WARN if warnings else ALLOW)
    return denials, warnings, summary


def decide(
    images: list[ImageUnderReview],
    rules: list[AdmissionRule],
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
