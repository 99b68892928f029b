"""What an admission policy would deny (or, in warn mode, warn about) today. Pure: no
I/O, no ORM.

Two questions, one matcher: the webhook's own (``policy_hits``, ``applies``,
``tag_only_name`` of ``admission.py``), for one policy at a time.

- ``would_deny``: each container the inventory sees running, judged as if its pod were
  admitted now to the namespace it runs in;
- ``reviews_would_deny``: each admission review the webhook allowed, its images judged
  again by today's policy and what is known of them today.

An image never scanned is not a policy's call (``ADMISSION_UNKNOWN_IMAGES`` answers it):
it is counted apart as unknown. Each image's findings are matched once per call, however
many containers run it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import NamedTuple

from .admission import (
    AdmissionRule,
    ImageFacts,
    applies,
    policy_hits,
    tag_only_name,
    worst_first,
)

TAG_ONLY = "given by tag only"


class Container(NamedTuple):
    """One container to judge: where it runs (or was asked to run), and its image (a
    named tuple: tens of thousands are built per question)."""

    namespace: str
    kind: str
    name: str
    container: str
    reference: str
    facts: ImageFacts | None = None
    """None: never scanned (or not a valid reference)."""
    cluster: str = ""

    @property
    def workload(self) -> tuple[str, str, str, str]:
        return (self.cluster, self.namespace, self.kind, self.name)

    @property
    def image(self) -> str:
        """The digest judged (the reference when none is known)."""
        return self.facts.digest if self.facts is not None and self.facts.digest else self.reference


@dataclass(frozen=True)
class PastReview:
    """One admission review the webhook allowed: the containers it judged then."""

    namespace: str
    kind: str
    name: str
    containers: tuple[Container, ...]
    cluster: str = ""


@dataclass(frozen=True)
class Hit:
    container: Container
    """As given, but for its facts (left out: a listed hit stays small)."""
    vulnerabilities: tuple[str, ...] = ()
    """The matching CVEs, worst first (each once)."""
    reason: str = ""
    """'' (findings matched) or TAG_ONLY (a policy that requires a digest)."""
    digest: str = ""
    """The digest judged ('' for an image given by tag that was never scanned)."""


@dataclass
class Tally:
    """What one policy would deny among the containers (or reviews) judged."""

    judged: int = 0
    """Containers (or reviews) judged."""
    unknown: int = 0
    """Containers whose image was never scanned: not this policy's call."""
    matched: int = 0
    """Containers (or reviews) this policy would deny (or warn about)."""
    namespaces: Counter = field(default_factory=Counter)
    workloads: int = 0
    """Distinct workloads (cluster, namespace, kind, name) among the hits."""
    images: int = 0
    """Distinct images (digests, else references) among the hits."""
    first: list[Hit] = field(default_factory=list)
    """The first ``limit`` hits, in the order given."""

    @property
    def per_namespace(self) -> list[tuple[str, int]]:
        """(namespace, count), most first."""
        return sorted(self.namespaces.items(), key=lambda item: (-item[1], item[0]))


class _Judge:
    """One policy's verdict on a container, remembered per (reference, image, namespace):
    a fleet runs few distinct images in few namespaces, each judged once."""

    def __init__(self, rule: AdmissionRule, now: datetime) -> None:
        self.rule, self.now = rule, now
        self.verdicts: dict[tuple[str, int, str], tuple[tuple[str, ...], str] | None] = {}
        self.matched: dict[int, tuple[str, ...]] = {}
        self.held: list[ImageFacts] = []
        """Keeps the facts remembered by id alive (ids stay unique while they live)."""

    def hit(self, container: Container) -> Hit | None:
        key = (container.reference, id(container.facts), container.namespace)
        if key not in self.verdicts:
            self.verdicts[key] = self._verdict(container)
            if container.facts is not None:
                self.held.append(container.facts)
        verdict = self.verdicts[key]
        if verdict is None:
            return None
        digest = container.facts.digest if container.facts is not None else ""
        return Hit(container, *verdict, digest=digest)

    def _verdict(self, container: Container) -> tuple[tuple[str, ...], str] | None:
        """(the matching CVEs, the reason) of a hit; None when there is none."""
        rule = self.rule
        if rule.require_digest:
            name = tag_only_name(container.reference)
            if name and applies(rule, namespace=container.namespace, repositories=(name,)):
                return (), TAG_ONLY
            return None
        facts = container.facts
        if facts is None:
            return None
        names = (facts.repository, *facts.scanned_as)
        if not applies(rule, namespace=container.namespace, repositories=names):
            return None
        vulnerabilities = self.matched.get(id(facts))
        if vulnerabilities is None:
            kept, _ = policy_hits(rule, facts, self.now)
            vulnerabilities = self.matched[id(facts)] = tuple(
                f.vulnerability for f in worst_first(kept)
            )
        return (vulnerabilities, "") if vulnerabilities else None

    def unknown(self, container: Container) -> bool:
        return container.facts is None and not self.rule.require_digest


class _Counting:
    """A tally being counted: the distinct workloads and images kept until it is done."""

    def __init__(self, limit: int) -> None:
        self.tally, self.limit = Tally(), limit
        self.workloads: set[tuple[str, str, str, str]] = set()
        self.images: set[str] = set()

    def add(self, hit: Hit, images: Iterable[str]) -> None:
        tally = self.tally
        tally.matched += 1
        tally.namespaces[hit.container.namespace] += 1
        self.workloads.add(hit.container.workload)
        self.images.update(images)
        if len(tally.first) < self.limit:
            tally.first.append(replace(hit, container=hit.container._replace(facts=None)))

    def done(self) -> Tally:
        self.tally.workloads, self.tally.images = len(self.workloads), len(self.images)
        return self.tally


def would_deny(
    rule: AdmissionRule, containers: Iterable[Container], *, now: datetime, limit: int = 20
) -> Tally:
    """The running containers ``rule`` would deny (or warn about) if admitted now."""
    judge, counting = _Judge(rule, now), _Counting(limit)
    tally = counting.tally
    for container in containers:
        tally.judged += 1
        if judge.unknown(container):
            tally.unknown += 1
            continue
        hit = judge.hit(container)
        if hit is not None:
            counting.add(hit, (container.image,))
    return counting.done()


def reviews_would_deny(
    rule: AdmissionRule, reviews: Iterable[PastReview], *, now: datetime, limit: int = 20
) -> Tally:
    """The allowed reviews ``rule`` would deny (or warn about) today: a review counts once,
    in its namespace, when any container it judged is hit; ``first`` holds the first hit
    of each of the first ``limit`` such reviews."""
    judge, counting = _Judge(rule, now), _Counting(limit)
    tally = counting.tally
    for review in reviews:
        tally.judged += 1
        hits = [hit for c in review.containers if (hit := judge.hit(c)) is not None]
        tally.unknown += sum(judge.unknown(c) for c in review.containers)
        if hits:
            counting.add(hits[0], (hit.container.image for hit in hits))
    return counting.done()
