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
from dataclasses import dataclass, field
from datetime import datetime

from .admission import (
    AdmissionRule,
    ImageFacts,
    applies,
    policy_hits,
    tag_only_name,
    worst_first,
)

TAG_ONLY = "given by tag only"


@dataclass(frozen=True)
class Container:
    """One container to judge: where it runs (or was asked to run), and its image."""

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
    vulnerabilities: tuple[str, ...] = ()
    """The matching CVEs, worst first (each once)."""
    reason: str = ""
    """'' (findings matched) or TAG_ONLY (a policy that requires a digest)."""


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
    workloads: set[tuple[str, str, str, str]] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    first: list[Hit] = field(default_factory=list)
    """The first ``limit`` hits, in the order given."""

    @property
    def per_namespace(self) -> list[tuple[str, int]]:
        """(namespace, count), most first."""
        return sorted(self.namespaces.items(), key=lambda item: (-item[1], item[0]))


class _Judge:
    """One policy's verdict on a container; each image's findings matched once."""

    def __init__(self, rule: AdmissionRule, now: datetime) -> None:
        self.rule, self.now = rule, now
        self.matched: dict[int, tuple[str, ...]] = {}
        self.held: list[ImageFacts] = []
        """Keeps the facts remembered by id alive (ids stay unique while they live)."""

    def hit(self, container: Container) -> Hit | None:
        rule = self.rule
        if rule.require_digest:
            name = tag_only_name(container.reference)
            if name and applies(rule, namespace=container.namespace, repositories=(name,)):
                return Hit(container, reason=TAG_ONLY)
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
            self.held.append(facts)
        return Hit(container, vulnerabilities) if vulnerabilities else None

    def unknown(self, container: Container) -> bool:
        return container.facts is None and not self.rule.require_digest


def _count(tally: Tally, hit: Hit, limit: int) -> None:
    tally.matched += 1
    tally.namespaces[hit.container.namespace] += 1
    tally.workloads.add(hit.container.workload)
    if len(tally.first) < limit:
        tally.first.append(hit)


def would_deny(
    rule: AdmissionRule, containers: Iterable[Container], *, now: datetime, limit: int = 20
) -> Tally:
    """The running containers ``rule`` would deny (or warn about) if admitted now."""
    judge, tally = _Judge(rule, now), Tally()
    for container in containers:
        tally.judged += 1
        if judge.unknown(container):
            tally.unknown += 1
            continue
        hit = judge.hit(container)
        if hit is not None:
            _count(tally, hit, limit)
            tally.images.add(container.image)
    return tally


def reviews_would_deny(
    rule: AdmissionRule, reviews: Iterable[PastReview], *, now: datetime, limit: int = 20
) -> Tally:
    """The allowed reviews ``rule`` would deny (or warn about) today: a review counts once,
    in its namespace, when any container it judged is hit; ``first`` holds the first hit
    of each of the first ``limit`` such reviews."""
    judge, tally = _Judge(rule, now), Tally()
    for review in reviews:
        tally.judged += 1
        hits = [hit for c in review.containers if (hit := judge.hit(c)) is not None]
        tally.unknown += sum(judge.unknown(c) for c in review.containers)
        if hits:
            _count(tally, hits[0], limit)
            tally.images.update(hit.container.image for hit in hits)
    return tally
