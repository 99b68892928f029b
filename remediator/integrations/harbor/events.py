"""Harbor scan events: what they say, and what we do about them.

A ``SCANNING_COMPLETED`` event (Default or CloudEvents format) carries only
counts, so for each scanned artifact we fetch the full report from Harbor's
API and keep it as its own Delivery (source ``harbor``, channel
``harbor-api``, ``image_hint`` = the full reference), which is then processed
like any other report. The event delivery is marked processed and points at
its report deliveries in ``headers["report_deliveries"]``; each report
delivery points back with ``headers["event_delivery"]``.

``SCANNING_FAILED`` / ``SCANNING_STOPPED`` are recorded as ``ignored`` with
the reason; other event types are ignored too. A transient Harbor failure is
raised (the task retries it); a permanent one rejects the event delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from findings.credentials import credential_headers
from findings.deliveries import (
    DeliveryRejected,
    delivery_event_processed,
    delivery_ignore,
    delivery_process,
    delivery_reject,
    delivery_store,
)
from findings.events import EventHandler
from findings.models import Delivery
from findings.parsers.base import ImageRef, ParseError
from findings.parsers.fields import as_dict, dicts, text
from findings.parsers.harbor import is_webhook_event
from findings.parsers.images import normalize_digest, parse_image_reference
from remediator.core.errors import ProviderError
from remediator.integrations.harbor.client import HarborClient, artifact_problem

logger = logging.getLogger(__name__)

COMPLETED = "completed"
FAILED = "failed"
STOPPED = "stopped"
KINDS = {
    "SCANNING_COMPLETED": COMPLETED,
    "scanningCompleted": COMPLETED,
    "harbor.scan.completed": COMPLETED,
    "SCANNING_FAILED": FAILED,
    "scanningFailed": FAILED,
    "harbor.scan.failed": FAILED,
    "SCANNING_STOPPED": STOPPED,
    "scanningStopped": STOPPED,
    "harbor.scan.stopped": STOPPED,
}


@dataclass(frozen=True)
class HarborArtifact:
    project: str
    repository: str
    """The repository inside the project (may contain '/')."""
    digest: str
    image: ImageRef

    @property
    def reference(self) -> str:
        return str(self.image)


@dataclass(frozen=True)
class HarborEvent:
    type: str
    kind: str
    """completed, failed, stopped, or '' for event types we do not act on."""
    event_id: str
    artifacts: tuple[HarborArtifact, ...]


def is_harbor_event(document: object) -> bool:
    return is_webhook_event(document)


def _registry_host() -> str:
    host = settings.HARBOR_URL.split("://", 1)[-1].split("/", 1)[0]
    return host or "harbor.local"


def _artifact(resource: dict, repository: dict) -> HarborArtifact:
    full_name = text(repository, "repo_full_name")
    project = text(repository, "namespace") or full_name.partition("/")[0]
    name = text(repository, "name") or full_name.partition("/")[2]
    if not project or not name:
        raise ParseError("harbor: event_data.repository names no project and repository")
    digest = normalize_digest(resource.get("digest"))
    if not digest:
        raise ParseError("harbor: a resource has no valid 'digest'")
    problem = artifact_problem(project, name, digest)
    if problem:
        raise ParseError(problem)
    tag = text(resource, "tag")
    url = text(resource, "resource_url")
    try:
        found = parse_image_reference(url) if url else None
    except ParseError:
        found = None
    if found is None:
        found = parse_image_reference(f"{_registry_host()}/{project}/{name}")
    image = ImageRef(
        registry=found.registry,
        repository=found.repository,
        tag=tag or found.tag,
        digest=digest,
    )
    return HarborArtifact(project=project, repository=name, digest=digest, image=image)


def harbor_event_parse(document: object) -> HarborEvent:
    """The event's type and artifacts; ParseError when it is not a usable Harbor event."""
    if not is_webhook_event(document):
        raise ParseError("harbor: expected a webhook event with 'type' and 'event_data' or 'data'")
    assert isinstance(document, dict)
    event_type = text(document, "type")
    kind = KINDS.get(event_type, "")
    data = as_dict(
        document.get("data") if "specversion" in document else document.get("event_data")
    )
    artifacts: tuple[HarborArtifact, ...] = ()
    if kind == COMPLETED:
        repository = as_dict(data.get("repository"))
        artifacts = tuple(_artifact(r, repository) for r in dicts(data.get("resources")))
        if not artifacts:
            raise ParseError("harbor: the SCANNING_COMPLETED event lists no resources")
    return HarborEvent(
        type=event_type, kind=kind, event_id=text(document, "id"), artifacts=artifacts
    )


def harbor_event_process(*, delivery: Delivery, document: object) -> list[Delivery]:
    """Act on one stored Harbor event; returns the report deliveries it produced.

    Raises DeliveryRejected (permanent) or ProviderError with ``permanent=False``
    (transient: the caller retries later; the delivery stays queued).
    """
    try:
        event = harbor_event_parse(document)
    except ParseError as exc:
        delivery_reject(delivery=delivery, reason=str(exc))
        raise DeliveryRejected(delivery, str(exc)) from exc
    if event.kind in (FAILED, STOPPED):
        delivery_ignore(delivery=delivery, reason=f"harbor: {event.type}: the scan {event.kind}")
        return []
    if event.kind != COMPLETED:
        delivery_ignore(delivery=delivery, reason=f"harbor: event type {event.type!r} ignored")
        return []
    reports = []
    try:
        client = HarborClient.from_settings()
        for artifact in event.artifacts:
            body = client.vulnerability_report(
                artifact.project, artifact.repository, artifact.digest
            )
            report, _ = delivery_store(
                source="harbor",
                body=body,
                content_type="application/json",
                # the event's credential vouches for which artifact and tag: it speaks
                # for Harbor's report only if it speaks for Harbor (findings/credentials.py)
                headers={"event_delivery": delivery.pk, **credential_headers(delivery.headers)},
                image_hint=artifact.reference,
                channel="harbor-api",
            )
            reports.append(report)
    except ProviderError as exc:
        if not exc.permanent:
            raise
        delivery_reject(delivery=delivery, reason=str(exc))
        raise DeliveryRejected(delivery, str(exc)) from exc
    for report in reports:
        try:
            delivery_process(delivery=report)
        except DeliveryRejected as exc:
            reason = f"harbor: report delivery {report.pk} rejected: {exc}"
            delivery_reject(delivery=delivery, reason=reason)
            raise DeliveryRejected(delivery, reason) from exc
    delivery_event_processed(delivery=delivery, report_ids=[r.pk for r in reports])
    logger.info("harbor event delivery %s: reports %s", delivery.pk, [r.pk for r in reports])
    return reports


HARBOR_EVENTS = EventHandler(
    name="harbor",
    sources=("harbor", "auto"),
    matches=is_harbor_event,
    process=harbor_event_process,
)
"""Registered with findings at start-up (``remediator.integrations.apps``)."""
