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
``admission_cache_bump`` moves from any process whenever something every image's facts
depend on changes (a finding's status changes, an admission policy or a threat-intel
row is edited, EPSS/KEV are imported). A scan changes the facts of its
own image only: ``admission_cache_touch`` moves the generation of its digest and of its
tag, so that a burst of scans leaves every other image's facts in memory; so does an
action's change of state its tag's only (``admission_cache_touch_tag``: the facts of the
tag's references and of every digest listing that tag's findings), and a burst that
opens actions leaves the other images' facts in memory too. The global
generation is read at most once a second, and so is each remembered image's own (one
``get_many`` for the images of a request due for it): a request whose images are all
known and checked within the second costs no query at all, and a change made in another
process is seen within a second.
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
IMAGE_KEY = "admission:image:"
"""+ a digest, or + "name:tag": that image's own generation (admission_cache_touch)."""
TAG_KEY = "admission:tag:"
"""+ a tag's id: when (time.time()) an action of the tag last changed state
(admission_cache_touch_tag). Which tags facts depend on is known only once they are
read, so facts are forgotten when one of their tags changed after CLOCK_SKEW_SECONDS
before they were read, rather than when a generation read before them moved."""
CLOCK_SKEW_SECONDS = 2.0
"""How far the clocks of the web and worker machines may disagree (NTP keeps them far
closer); facts may be read again that often after a change of one of their tags."""
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


def image_keys(target_key: str) -> tuple[str, ...]:
    """The shared keys of the image generations a remembered target's facts depend on:
    its digest (found under any repository name), else its tag (judged by the digest of
    its last scan)."""
    name_tag, _, digest = target_key.partition("@")
    digest = digest.lstrip("@")
    return (IMAGE_KEY + digest,) if digest else (IMAGE_KEY + name_tag,)


def memory_keys(target_key: str) -> tuple[str, ...]:
    """The shared keys a remembered target's facts depend on that are known before they
    are read: its ``image_keys``, and for a digest its reference's tag too (whose open
    action it is judged with)."""
    name_tag, _, digest = target_key.partition("@")
    tag_key = IMAGE_KEY + name_tag
    return (*image_keys(target_key), tag_key) if digest else (tag_key,)


def tag_keys(known: Known) -> tuple[str, ...]:
    """The keys of the tags whose findings the facts list (whose actions they read)."""
    facts = known[0]
    if facts is None:
        return ()
    return tuple(sorted({TAG_KEY + str(f.tag_id) for f in facts.findings}))


def admission_cache_touch(*, digest: str, name: str, tag: str) -> None:
    """A scan of ``name:tag`` at ``digest`` was ingested: invalidate the facts that
    depend on that digest or that tag (not every image's, as ``admission_cache_bump``);
    this process at once, the others within GENERATION_CHECK_SECONDS. The keys expire
    after the facts they guard could have (ADMISSION_CACHE_SECONDS)."""
    generation = uuid.uuid4().hex
    keys = {IMAGE_KEY + f"{name}:{tag or 'latest'}"}
    if digest:
        keys.add(IMAGE_KEY + digest)
    cache.set_many(dict.fromkeys(keys, generation), timeout=settings.ADMISSION_CACHE_SECONDS + 60)
    MEMORY.forget(keys)


def admission_cache_touch_tag(*, tag_id: int, name: str, tag: str) -> None:
    """An action of the tag ``name:tag`` (id ``tag_id``) changed state: invalidate the facts
    that read that tag's actions, the tag's references' and those of every digest whose
    findings are that tag's (not every image's, as ``admission_cache_bump``); this process
    at once, the others within GENERATION_CHECK_SECONDS."""
    tag_key, name_tag_key = TAG_KEY + str(tag_id), IMAGE_KEY + f"{name}:{tag or 'latest'}"
    values = {tag_key: time.time(), name_tag_key: uuid.uuid4().hex}
    cache.set_many(values, timeout=settings.ADMISSION_CACHE_SECONDS + 60)
    MEMORY.forget(set(values))


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
    """This process's cached facts: {key: [generation, expires, value, shared keys, their
    generations, checked at, tag keys, read at]}, bounded. ``shared keys`` are its
    ``memory_keys``, their generations the shared values read before the facts;
    ``checked at`` when they were last found unchanged; ``tag keys`` its ``tag_keys``,
    ``read at`` when (time.time()) the facts were read."""

    def __init__(self, size: int = MEMORY_ENTRIES) -> None:
        self.size = size
        self.entries: dict[str, list] = {}

    def get(self, key: str, generation: str, now: float) -> object:
        entry = self.entries.get(key)
        if entry is None or entry[0] != generation or entry[1] < now:
            return _MISSING
        return entry[2]

    def put(
        self,
        key: str,
        generation: str,
        now: float,
        value: object,
        shared: dict[str, object] | None = None,
        tags: tuple[str, ...] = (),
        read_at: float = 0.0,
    ) -> None:
        """Remember ``value``; ``shared``: {shared key it depends on: its generation};
        ``tags``: the keys of the tags it depends on, ``read_at``: when (time.time())
        their reading began."""
        if len(self.entries) >= self.size:
            self.entries.clear()  # crude but bounded; refilled from the database
        expires = now + settings.ADMISSION_CACHE_SECONDS
        keys, generations = tuple(shared or ()), tuple((shared or {}).values())
        self.entries[key] = [generation, expires, value, keys, generations, now, tags, read_at]

    def shared_keys(self, key: str) -> tuple[str, ...]:
        return self.entries[key][3] + self.entries[key][6]

    def due(self, key: str, now: float) -> bool:
        """Its shared generations were last checked GENERATION_CHECK_SECONDS ago or more."""
        return now - self.entries[key][5] >= GENERATION_CHECK_SECONDS

    def confirm(self, keys: list[str], shared: dict, now: float) -> list[str]:
        """Compare the shared generations of ``keys`` with ``shared`` (read now): forget
        those that moved, mark the others checked; returns the forgotten keys."""
        moved = []
        for key in keys:
            entry = self.entries[key]
            since = entry[7] - CLOCK_SKEW_SECONDS
            tag_moved = any((shared.get(k) or 0) > since for k in entry[6])
            if tag_moved or tuple(shared.get(k) for k in entry[3]) != entry[4]:
                del self.entries[key]
                moved.append(key)
            else:
                entry[5] = now
        return moved

    def forget(self, keys_moved: set[str]) -> None:
        """Drop the entries that depend on any of these shared keys."""
        for key, entry in list(self.entries.items()):
            if keys_moved.intersection(entry[3] + entry[6]):
                del self.entries[key]


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
    due = [key for key in by_key if MEMORY.due(key, now)]
    if due:
        shared = cache.get_many([k for key in due for k in MEMORY.shared_keys(key)])
        by_target_key = {t.key: t for t in targets.values()}
        for key in MEMORY.confirm(due, shared, now):
            del by_key[key]
            missing.append(by_target_key[key])
    ADMISSION_CACHE.labels(result="hit").inc(len(by_key))
    if missing:
        loaded = _facts_read(missing, rules, generation, now)
        ADMISSION_CACHE.labels(result="miss").inc(len(loaded))
        by_key.update(loaded)
    for reference, target in targets.items():
        value = by_key[target.key]
        why = unverified.get(reference)
        known[reference] = _unverified(value, why) if why else value
    return rules, known


def _facts_read(
    missing: list[Target], rules: list[AdmissionRule], generation: str, now: float
) -> dict[str, Known]:
    """Read the facts of ``missing`` from the database and remember them with what they
    depend on. The generations of the images and tags they name are read before the
    facts: a scan or an action committed in between moves them again, and the next
    check reloads; the tags whose findings they list are checked by time (TAG_KEY)."""
    before = cache.get_many([k for t in missing for k in memory_keys(t.key)])
    read_at = time.time()
    loaded = facts_load(missing, rules)
    for key, value in loaded.items():
        shared = {k: before.get(k) for k in memory_keys(key)}
        MEMORY.put(key, generation, now, value, shared, tag_keys(value), read_at)
    return loaded
