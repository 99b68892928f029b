"""Answer an admission review, or the same question from the command line.

``admission_review(body)`` for the webhook, ``admission_check(images)`` for
``manage.py admission_check``: both resolve the images through ``facts`` (cached), decide
with ``rules.decide`` and record the decision (an AuditEvent, a metric, and for
allowed pods the inventory) through the write buffer.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils import timezone

from findings.pods import ContainerImage, RunningRow
from remediator.core.metrics import ADMISSION_DECISIONS, ADMISSION_SECONDS
from remediator.engine.models import AuditEvent

from .buffer import BUFFER
from .facts import admission_facts
from .review import Review, break_glass_reason, parse_review, review_response
from .rules import Decision, ImageUnderReview, decide

log = logging.getLogger(__name__)
UNAVAILABLE = "Remediator could not read what it knows about this image"
RECORDED_OPERATIONS = ("CREATE", "UPDATE")


def _decide(containers: list[ContainerImage], *, namespace: str, break_glass: str = "") -> Decision:
    rules, known = [], {}
    try:
        rules, known = admission_facts([c.image for c in containers])
    except Exception:  # the database or cache is away: every image is "unknown"
        log.exception("admission: facts unavailable; answering as for unknown images")
    images = []
    for container in containers:
        facts, problem = known.get(container.image, (None, UNAVAILABLE))
        images.append(ImageUnderReview(container.name, container.image, facts, problem))
    return decide(
        images,
        rules,
        namespace=namespace,
        now=timezone.now(),
        unknown=settings.ADMISSION_UNKNOWN_IMAGES,
        break_glass=break_glass if settings.ADMISSION_BREAK_GLASS else "",
    )


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
    return [
        RunningRow(
            cluster=cluster,
            namespace=review.namespace,
            kind=kind,
            name=name,
            container=container.name,
            image_ref=container.image,
            digest=digests.get(container.name, ""),
        )
        for container in review.containers
    ]


def admission_review(body: object, *, cluster: str = "") -> dict:
    """The AdmissionReview answering ``body``; ``ReviewInvalid`` when it is not one."""
    started = time.perf_counter()
    review = parse_review(body)
    reason = break_glass_reason(review)
    decision = _decide(list(review.containers), namespace=review.namespace, break_glass=reason)
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
        "dry_run": review.dry_run,
        "user": review.username,
        "break_glass": reason if decision.outcome == "break_glass" else "",
    }
    if decision.outcome == "break_glass":
        log.warning(
            "admission: break-glass by %s for %s/%s: %s",
            review.username,
            review.namespace,
            data["name"],
            reason,
        )
    event = _event(
        decision, actor_label=f"k8s:{review.username or 'unknown'}", object_id=review.uid, data=data
    )
    BUFFER.add(event, _inventory(review, decision, cluster))
    ADMISSION_DECISIONS.labels(outcome=decision.outcome).inc()
    ADMISSION_SECONDS.observe(time.perf_counter() - started)
    return answer


def admission_check(images: list[str], *, namespace: str = "default") -> Decision:
    """The webhook's answer for a pod running ``images`` in ``namespace`` (for CI gates)."""
    containers = [ContainerImage(name=str(n), image=i) for n, i in enumerate(images, 1)]
    decision = _decide(containers, namespace=namespace)
    event = _event(
        decision,
        actor_label="cli:admission_check",
        object_id=f"cli:{namespace}",
        data={"namespace": namespace, "cli": True},
    )
    BUFFER.add(event, [])
    ADMISSION_DECISIONS.labels(outcome=decision.outcome).inc()
    return decision
