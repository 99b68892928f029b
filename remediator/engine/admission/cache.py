"""What is known about the images of a pod, cached per process.

Each reference is parsed as a runtime would (``strict``) and turned into a
:class:`~.lookups.Target`: its own ``@sha256:…``; else, for a tag, the digest its
registry serves now (``tags.py``, with ``ADMISSION_RESOLVE_TAGS``); else — the registry
could not be asked, or is not asked — the digest the tag had at its last scan, marked
*unverified* with the reason. ``lookups.facts_load`` then reads, for all targets at once,
the findings the newest successful scan of each digest by each scanner lists (under any
repository name), as the ``FindingFacts`` every policy is matched on, and the tag's open
remediation action.

Each web process keeps those facts in memory, tagged with the *generation* read from the
shared cache (the database cache table, or Redis with CACHE_URL), which
``admission_cache_bump`` moves from any process whenever something they depend on
changes (a scan is ingested, a finding's status or an action's state changes, an
admission policy or a threat-intel row is edited, EPSS/KEV are imported). The generation
is read at most once a second, so a request whose images are all known costs no query
at all, and a change made in another process is seen within a second.
``ADMISSION_CACHE_SECONDS`` bounds what nothing reports. Registry answers are remembered
apart (``ADMISSION_REGISTRY_CACHE_SECONDS``): a pushed tag is seen that soon.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

from django.conf import settings
from django.core.cache import cache

from findings.parsers.base import ImageRef
from findings.parsers.images import try_image_reference
from remediator.core.metrics import ADMISSION_CACHE
from remediator.engine.rules.admission import AdmissionRule
from remediator.engine.rules.criteria import criteria_fields
from remediator.engine.services.policy_rules import admission_rules_enabled

from .lookups import Known, Target, facts_load
from .tags import TagAnswer, tags_resolve

GENERATION_KEY = "admission:generation"
POLICIES_KEY = " policies"
"""(In the memory of targets: no target key starts with a space.)"""
MEMORY_ENTRIES = 20_000
GENERATION_CHECK_SECONDS = 1.0
INVALID = "not a valid image reference"
_seen: dict = {"value": "", "at": -1e9}
"""The shared generation as this process last read it, and when (time.monotonic())."""


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


def _targets(
    references: list[str],
) -> tuple[dict[str, Target], dict[str, str], dict[str, Known]]:
    """({reference: target}, {reference: why its tag is unverified}, {reference: known
    already (an invalid reference)})."""
    parsed: dict[str, ImageRef] = {}
    invalid: dict[str, Known] = {}
    for reference in dict.fromkeys(references):
        ref = try_image_reference(reference, strict=True)
        if ref is None:
            invalid[reference] = (None, INVALID)
        else:
            parsed[reference] = ref
    answers: dict[tuple[str, str], TagAnswer] = {}
    if settings.ADMISSION_RESOLVE_TAGS:
        answers = tags_resolve(ref for ref in parsed.values() if not ref.digest)
    targets, unverified = {}, {}
    for reference, ref in parsed.items():
        if ref.digest:
            targets[reference] = Target(ref, ref.digest)
            continue
        answer = answers.get((ref.name, ref.tag or "latest"))
        if answer is not None and answer.digest:
            targets[reference] = Target(ref, answer.digest, resolved=True)
            continue
        targets[reference] = Target(ref)
        if answer is not None:
            unverified[reference] = answer.problem or "its registry could not be asked"
    return targets, unverified, invalid


def _unverified(known: Known, why: str) -> Known:
    facts, problem = known
    if facts is None:
        return None, f"{problem}; its registry could not be asked ({why})"
    mode = settings.ADMISSION_UNVERIFIED_TAGS
    return replace(facts, unverified=why, unverified_unknown=mode == "unknown"), ""


def admission_facts(references: list[str]) -> tuple[list[AdmissionRule], dict[str, Known]]:
    """The enabled admission policies and the facts of each reference: from this
    process's memory while the shared generation has not moved (one cache read),
    else from the database, every reference missing from memory in one batch."""
    targets, unverified, known = _targets(references)
    now = time.monotonic()
    generation = _generation(now)
    rules = MEMORY.get(POLICIES_KEY, generation, now)
    if rules is _MISSING:
        rules = admission_rules_enabled()
        MEMORY.put(POLICIES_KEY, generation, now, rules)
    # Facts hold what these rules read: remembered with it, so other rules never see
    # facts short of a field they need.
    generation += "|" + ",".join(sorted(criteria_fields(rules)))
    by_key: dict[str, Known] = {}
    missing: list[Target] = []
    for target in targets.values():
        value = MEMORY.get(target.key, generation, now)
        if value is _MISSING:
            missing.append(target)
        else:
            by_key[target.key] = value
    ADMISSION_CACHE.labels(result="hit").inc(len(by_key))
    if missing:
        loaded = facts_load(missing, rules)
        ADMISSION_CACHE.labels(result="miss").inc(len(loaded))
        for key, value in loaded.items():
            MEMORY.put(key, generation, now, value)
        by_key.update(loaded)
    for reference, target in targets.items():
        value = by_key[target.key]
        why = unverified.get(reference)
        known[reference] = _unverified(value, why) if why else value
    return rules, known
