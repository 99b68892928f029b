"""What the database knows about the images of a pod, cached per process.

Per image reference, the digest it resolves to (the reference's own ``@sha256:…``, else
the image its tag points at: the newest scan of the tag) and the findings the newest
successful scan of that digest by each scanner lists, with their status, KEV and EPSS,
plus the tag's open remediation action. Each web process keeps them in memory, tagged
with the *generation* read from the shared cache (the database cache table, or Redis
with CACHE_URL), which ``admission_cache_bump`` moves from any process whenever
something they depend on changes (a scan is ingested, a finding's status or an action's
state changes, an admission policy or a threat-intel row is edited, EPSS/KEV are
imported). The generation is read at most once a
second, so a request whose images are all known costs no query at all, and a change
made in another process is seen within a second. ``ADMISSION_CACHE_SECONDS`` bounds
what nothing reports.
"""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from findings.bulk import in_ids
from findings.models import Finding, Image, Repository, Tag
from findings.parsers.images import try_image_reference
from findings.seen import scan_finding_id_sets
from remediator.core.metrics import ADMISSION_CACHE
from remediator.core.severity import severity_rank
from remediator.engine.models import OPEN_STATES, ActionKind, AdmissionPolicy, RemediationAction

from .rules import ActionFact, FindingFact, ImageFacts, Rule

GENERATION_KEY = "admission:generation"
POLICIES_KEY = " policies"
"""(In the memory of references: no reference starts with a space.)"""
MEMORY_ENTRIES = 20_000
GENERATION_CHECK_SECONDS = 1.0
_seen: dict = {"value": "", "at": -1e9}
"""The shared generation as this process last read it, and when (time.monotonic())."""
Known = tuple[ImageFacts | None, str]
"""(facts, '') for a scanned digest; (None, why) for an unknown image."""


def admission_cache_bump() -> None:
    """Invalidate every cached verdict input (cheap: one cache write); this process at
    once, the others within GENERATION_CHECK_SECONDS."""
    generation = uuid.uuid4().hex
    cache.set(GENERATION_KEY, generation, None)
    _seen.update(value=generation, at=time.monotonic())


def admission_memory_clear() -> None:
    """Forget this process's cached facts and generation (tests, after a flush)."""
    MEMORY.entries.clear()
    _seen.update(value="", at=-1e9)


def load_rules() -> list[Rule]:
    return [
        Rule(
            name=policy.name,
            mode=policy.mode,
            min_severity_rank=severity_rank(policy.min_severity),
            fixable_for_days=policy.fixable_for_days,
            kev=policy.kev,
            min_epss=policy.min_epss,
            image_glob=policy.image_glob,
            namespace_glob=policy.namespace_glob,
        )
        for policy in AdmissionPolicy.objects.filter(enabled=True).order_by("order", "id")
    ]


def _action(tag_ids: set[int]) -> ActionFact | None:
    actions = list(
        RemediationAction.objects.filter(tag_id__in=tag_ids, state__in=OPEN_STATES)
        .only("id", "kind", "state")
        .order_by("-id")[:10]
    )
    if not actions:
        return None
    action = next((a for a in actions if a.kind == ActionKind.REBUILD), actions[0])
    url = settings.BASE_URL + reverse("action-detail", args=[action.pk])
    return ActionFact(id=action.pk, kind=action.kind, state=action.state, url=url)


def load_image(reference: str) -> Known:
    """Facts of the digest ``reference`` names (a few indexed queries)."""
    ref = try_image_reference(reference)
    if ref is None:
        return None, "not a valid image reference"
    repository = Repository.objects.filter(registry=ref.registry, name=ref.repository).first()
    if repository is None:
        return None, "never scanned by any scanner Remediator hears from"
    tag = Tag.objects.filter(repository=repository, name=ref.tag or "latest").first()
    if ref.digest:
        image = Image.objects.filter(repository=repository, digest=ref.digest).first()
    else:
        image = tag.image if tag is not None else None
    if image is None:
        return None, "this digest was never scanned" if ref.digest else "this tag was never scanned"
    newest: dict[str, int] = {}
    for scan_id, scanner in (
        image.scans.filter(failure="")
        .order_by("-scanned_at", "-id")
        .values_list("id", "scanner_key")
    ):
        newest.setdefault(scanner, scan_id)
    if not newest:
        return None, "no successful scan of this digest"
    listed = sorted({i for ids in scan_finding_id_sets(newest.values()).values() for i in ids})
    rows = Finding.objects.filter(pk__in=in_ids(listed)).values_list(
        "vulnerability_id",
        "severity",
        "severity_rank",
        "package",
        "fixable_since",
        "status",
        "accepted_until",
        "tag_id",
        "vulnerability__intel__kev",
        "vulnerability__intel__epss_score",
    )
    findings, tag_ids = [], {tag.pk} if tag is not None else set()
    for vuln, severity, rank, package, since, status, until, tag_id, kev, epss in rows:
        tag_ids.add(tag_id)
        findings.append(
            FindingFact(
                vulnerability=vuln,
                severity=severity,
                severity_rank=rank,
                package=package,
                fixable_since=since,
                kev=bool(kev),
                epss=epss,
                status=status,
                accepted_until=until,
            )
        )
    facts = ImageFacts(
        repository=str(repository),
        digest=image.digest,
        findings=tuple(findings),
        action=_action(tag_ids) if findings else None,
    )
    return facts, ""


def _generation(now: float) -> str:
    """The shared generation, read at most every GENERATION_CHECK_SECONDS: a request
    whose images are in memory then touches neither the cache nor the database."""
    if now - _seen["at"] < GENERATION_CHECK_SECONDS and _seen["value"]:
        return _seen["value"]
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        cache.set(GENERATION_KEY, generation, None)
    _seen.update(value=generation, at=now)
    return generation


class _Memory:
    """This process's cached facts: {key: (generation, expires, value)}, bounded."""

    def __init__(self, size: int = MEMORY_ENTRIES) -> None:
        self.size = size
        self.entries: dict[str, tuple[str, float, object]] = {}

    def get(self, key: str, generation: str, now: float) -> object:
        entry = self.entries.get(key)
        if entry is None or entry[0] != generation or entry[1] < now:
            return _MISSING
        return entry[2]

    def put(self, key: str, generation: str, now: float, value: object) -> None:
        if len(self.entries) >= self.size:
            self.entries.clear()  # crude but bounded; refilled from the database
        self.entries[key] = (generation, now + settings.ADMISSION_CACHE_SECONDS, value)


_MISSING = object()
MEMORY = _Memory()


def admission_facts(references: list[str]) -> tuple[list[Rule], dict[str, Known]]:
    """The enabled admission policies and the facts of each reference: from this
    process's memory while the shared generation has not moved (one cache read),
    else from the database."""
    now = time.monotonic()
    generation = _generation(now)
    rules = MEMORY.get(POLICIES_KEY, generation, now)
    if rules is _MISSING:
        rules = load_rules()
        MEMORY.put(POLICIES_KEY, generation, now, rules)
    known: dict[str, Known] = {}
    for reference in references:
        value = MEMORY.get(reference, generation, now)
        if value is _MISSING:
            ADMISSION_CACHE.labels(result="miss").inc()
            value = load_image(reference)
            MEMORY.put(reference, generation, now, value)
        else:
            ADMISSION_CACHE.labels(result="hit").inc()
        known[reference] = value
    return rules, known
