"""Answer an admission review, or the same question from the command line.

``admission_review(body)`` for the webhook, ``admission_check(images)`` for
``manage.py admission_check``: both resolve the images through ``cache`` (per process),
decide with ``engine.rules.admission.decide`` and record the decision (an AuditEvent, a
metric, and for allowed pods the inventory) through the write buffer.

The work one review may cause is bounded before ``cache`` is asked: past
ADMISSION_MAX_CONTAINERS containers or ADMISSION_MAX_IMAGES distinct references the
review is denied unjudged, and references not looked up by ADMISSION_DEADLINE_SECONDS
are answered as ADMISSION_UNKNOWN_IMAGES says; both are audited and counted.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from remediator.cluster.pods import ContainerImage, RunningRow, row_problem
from remediator.core.metrics import (
    ADMISSION_BREAK_GLASS,
    ADMISSION_DECISIONS,
    ADMISSION_SECONDS,
    ADMISSION_UNJUDGED,
)
from remediator.engine.models import AuditEvent
from remediator.engine.rules.admission import (
    DENY,
    AdmissionRule,
    Decision,
    ImageUnderReview,
    decide,
)

from .break_glass import BreakGlass, BreakGlassPolicy, break_glass_check
from .buffer import BUFFER
from .cache import admission_facts
from .review import Review, break_glass_annotation, introduced, parse_review, review_response

log = logging.getLogger(__name__)
UNAVAILABLE = "Remediator could not read what it knows about this image"
RECORDED_OPERATIONS = ("CREATE", "UPDATE")
LOOKUP_BATCH = 100
"""References asked of ``cache`` at a time (each batch is read in a fixed number of queries
and its tags resolved in parallel); the deadline is checked between batches."""


@dataclass
class Judged:
    decision: Decision
    unjudged: str = ""
    """'' | cap | deadline: why not every image was judged."""


def break_glass_policy() -> BreakGlassPolicy:
    return BreakGlassPolicy(
        enabled=settings.ADMISSION_BREAK_GLASS,
        namespaces=tuple(settings.ADMISSION_BREAK_GLASS_NAMESPACES),
        users=tuple(settings.ADMISSION_BREAK_GLASS_USERS),
        groups=tuple(settings.ADMISSION_BREAK_GLASS_GROUPS),
        min_reason=settings.ADMISSION_BREAK_GLASS_MIN_REASON,
    )


def _over_cap(containers: list[ContainerImage], total: int) -> str:
    """Why this review is too large to judge ('' when it is not)."""
    if total > settings.ADMISSION_MAX_CONTAINERS:
        return (
            f"the object has {total} containers, more than ADMISSION_MAX_CONTAINERS "
            f"({settings.ADMISSION_MAX_CONTAINERS}): not judged"
        )
    images = len({c.image for c in containers})
    if images > settings.ADMISSION_MAX_IMAGES:
        return (
            f"it introduces {images} distinct images, more than ADMISSION_MAX_IMAGES "
            f"({settings.ADMISSION_MAX_IMAGES}): not judged"
        )
    return ""


def _lookup(
    references: list[str], deadline: float
) -> tuple[list[AdmissionRule], dict[str, tuple], bool]:
    """(rules, (facts, problem) per reference, whether the deadline cut the lookups short)."""
    rules: list[AdmissionRule] = []
    known: dict[str, tuple] = {}
    for start in range(0, len(references), LOOKUP_BATCH):
        if time.monotonic() >= deadline:
            return rules, known, True
        try:
            rules, found = admission_facts(references[start : start + LOOKUP_BATCH])
        except Exception:  # the database or cache is away: the rest are "unknown"
            log.exception("admission: facts unavailable; answering as for unknown images")
            break
        known.update(found)
    return rules, known, False


def _decide(
    containers: list[ContainerImage],
    *,
    namespace: str,
    total: int,
    deadline: float,
    glass: BreakGlass | None = None,
) -> Judged:
    glass = glass or BreakGlass()
    over = _over_cap(containers, total)
    if over:
        message = f"Remediator denied this: {over}"
        return Judged(Decision(allowed=False, outcome=DENY, message=message), "cap")
    references = list(dict.fromkeys(c.image for c in containers))
    rules, known, late = _lookup(references, deadline) if references else ([], {}, False)
    missing = (
        f"not looked up within the admission deadline "
        f"(ADMISSION_DEADLINE_SECONDS={settings.ADMISSION_DEADLINE_SECONDS:g})"
        if late
        else UNAVAILABLE
    )
    images = []
    for container in containers:
        facts, problem = known.get(container.image, (None, missing))
        images.append(ImageUnderReview(container.name, container.image, facts, problem))
    decision = decide(
        images,
        rules,
        namespace=namespace,
        now=timezone.now(),
        unknown=settings.ADMISSION_UNKNOWN_IMAGES,
        break_glass=glass.reason,
        break_glass_refused=glass.refused,
    )
    return Judged(decision, "deadline" if late else "")


def _event(decision: Decision, *, actor_label: str, object_id: str, data: dict) -> AuditEvent:
    summary = decision.message or "; ".join(decision.warnings) or "no finding matched"
    return AuditEvent(
        kind=AuditEvent.Kind.ADMISSION,
        actor_label=actor_label[:150],
        object_type="admission",
        object_id=object_id[:64],
        to_state=decision.outcome,
        message=f"{decision.outcome}: {summary}"[:4000],
        data={**data, "vulnerabilities": decision.vulnerabilities[:50], "images": decision.images},
    )


def _inventory(review: Review, decision: Decision, cluster: str) -> list[RunningRow]:
    if not decision.allowed or review.dry_run or review.operation not in RECORDED_OPERATIONS:
        return []
    kind, name = review.workload
    digests = {image["container"]: image.get("digest", "") for image in decision.images}
    rows = [
        RunningRow(
            cluster=cluster,
            namespace=review.namespace,
            kind=kind,
            name=name,
            container=container.name,
            image_ref=container.image,
            digest=digests.get(container.name, ""),
            labels=review.labels,
        )
        for container in review.containers
    ]
    return [row for row in rows if not row_problem(row)]


def _break_glass(review: Review) -> BreakGlass:
    return break_glass_check(
        break_glass_policy(),
        break_glass_annotation(review),
        namespace=review.namespace,
        username=review.username,
        groups=review.groups,
    )


def _glass_used(review: Review, decision: Decision, glass: BreakGlass, data: dict) -> dict | None:
    """Count a break-glass that mattered (the review would be denied) and, for a real
    use, the notice for the security team; dry runs neither count nor notify."""
    if review.dry_run or glass.result == "none":
        return None
    if decision.outcome == "break_glass":
        ADMISSION_BREAK_GLASS.labels(result="used").inc()
        return {k: data[k] for k in ("uid", "cluster", "namespace", "kind", "name", "user")} | {
            "reason": glass.reason,
            "groups": data["groups"],
            "vulnerabilities": decision.vulnerabilities[:20],
        }
    if not decision.allowed and glass.refused:
        ADMISSION_BREAK_GLASS.labels(result=glass.result).inc()
    return None


def admission_review(body: object, *, cluster: str = "") -> dict:
    """The AdmissionReview answering ``body``; ``ReviewInvalid`` when it is not one."""
    started = time.perf_counter()
    deadline = time.monotonic() + settings.ADMISSION_DEADLINE_SECONDS
    review = parse_review(body)
    judged_containers = introduced(review)
    glass = _break_glass(review)
    judged = _decide(
        judged_containers,
        namespace=review.namespace,
        total=len(review.containers),
        deadline=deadline,
        glass=glass,
    )
    decision = judged.decision
    answer = review_response(
        review, allowed=decision.allowed, message=decision.message, warnings=decision.warnings
    )
    data = {
        "uid": review.uid,
        "cluster": cluster,
        "namespace": review.namespace,
        "kind": review.kind,
        "name": review.name or review.workload[1],
        "operation": review.operation,
        "sub_resource": review.sub_resource,
        "dry_run": review.dry_run,
        "user": review.username,
        "groups": list(review.groups[:20]),
        "judged": len(judged_containers),
        "unchanged": len(review.containers) - len(judged_containers),
        "unjudged": judged.unjudged,
        "break_glass": glass.reason if decision.outcome == "break_glass" else "",
        "break_glass_refused": glass.refused if not decision.allowed else "",
    }
    notice = _glass_used(review, decision, glass, data)
    if notice is not None:
        log.warning(
            "admission: break-glass by %r for %r/%r: %r",
            review.username,
            review.namespace,
            data["name"],
            glass.reason,
        )
    if judged.unjudged:
        ADMISSION_UNJUDGED.labels(reason=judged.unjudged).inc()
    event = _event(
        decision, actor_label=f"k8s:{review.username or 'unknown'}", object_id=review.uid, data=data
    )
    BUFFER.add(event, _inventory(review, decision, cluster), notice=notice)
    ADMISSION_DECISIONS.labels(outcome=decision.outcome).inc()
    ADMISSION_SECONDS.observe(time.perf_counter() - started)
    return answer


def admission_check(images: list[str], *, namespace: str = "default") -> Decision:
    """The webhook's answer for a pod running ``images`` in ``namespace`` (for CI gates)."""
    containers = [ContainerImage(name=str(n), image=i) for n, i in enumerate(images, 1)]
    deadline = time.monotonic() + settings.ADMISSION_DEADLINE_SECONDS
    judged = _decide(containers, namespace=namespace, total=len(containers), deadline=deadline)
    decision = judged.decision
    event = _event(
        decision,
        actor_label="cli:admission_check",
        object_id=f"cli:{namespace}",
        data={"namespace": namespace, "cli": True, "unjudged": judged.unjudged},
    )
    BUFFER.add(event, [])
    if judged.unjudged:
        ADMISSION_UNJUDGED.labels(reason=judged.unjudged).inc()
    ADMISSION_DECISIONS.labels(outcome=decision.outcome).inc()
    return decision
