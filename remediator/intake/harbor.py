"""Harbor, in one place: its scan events, what they say, and what we do about them.

A ``SCANNING_COMPLETED`` event (Default or CloudEvents format) carries only
counts, so for each scanned artifact we fetch the full report from Harbor's
API (``remediator/integrations/harbor/client.py``) and receive it as its own
Delivery (source ``harbor``, channel ``harbor-api``, ``image_hint`` = the full
reference), through the same entry point as any other report
(``receive.py``). The event delivery is marked processed and points at its
report deliveries in ``headers["report_deliveries"]``; each report delivery
points back with ``headers["event_delivery"]``. The reports of an event are
all fetched before the first is stored.

``SCANNING_FAILED`` / ``SCANNING_STOPPED`` are recorded as ``ignored`` with
the reason; other event types are ignored too. A transient Harbor failure is
raised (the task retries it); a permanent one rejects the event delivery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings

from findings.models import Delivery
from findings.parsers.base import ImageRef, ParseError
from findings.parsers.fields import as_dict, dicts, text
from findings.parsers.harbor import is_webhook_event
from findings.parsers.images import normalize_digest, parse_image_reference
from remediator.core.errors import ProviderError
from remediator.integrations.harbor.client import HarborClient, artifact_problem

from .recognise import credential_headers
from .store import DeliveryRejected, delivery_event_processed, delivery_ignore, delivery_rejected

logger = logging.getLogger(__name__)

EVENT_SOURCES = ("harbor", "auto")
"""Sources whose deliveries may hold a Harbor event rather than a report."""
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


def harbor_event_kind(document: object) -> str:
    """What the event says happened (``completed``...; ``other`` for an event type not
    acted on); ParseError when it is not a usable Harbor event."""
    return harbor_event_parse(document).kind or "other"


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


def harbor_event_fetch(*, delivery: Delivery, document: object) -> list[dict] | None:
    """The reports a stored Harbor event asks for, fetched from Harbor, each as the
    arguments of ``delivery_receive``; None when the event asks for none (it is then
    recorded as ignored).

    Raises DeliveryRejected (permanent, recorded) or ProviderError with
    ``permanent=False`` (transient: the caller retries later; the delivery stays queued).
    """
    try:
        event = harbor_event_parse(document)
    except ParseError as exc:
        raise delivery_rejected(delivery=delivery, reason=str(exc)) from exc
    if event.kind in (FAILED, STOPPED):
        delivery_ignore(delivery=delivery, reason=f"harbor: {event.type}: the scan {event.kind}")
        return None
    if event.kind != COMPLETED:
        delivery_ignore(delivery=delivery, reason=f"harbor: event type {event.type!r} ignored")
        return None
    # the event's credential vouches for which artifact and tag: it speaks for
    # Harbor's report only if it speaks for Harbor (recognise.py)
    headers = {"event_delivery": delivery.pk, **credential_headers(delivery.headers)}
    try:
        client = HarborClient.from_settings()
        return [
            {
                "source": "harbor",
                "body": client.vulnerability_report(
                    artifact.project, artifact.repository, artifact.digest
                ),
                "content_type": "application/json",
                "headers": headers,
                "image_hint": artifact.reference,  # the report names no image
                "channel": "harbor-api",
            }
            for artifact in event.artifacts
        ]
    except ProviderError as exc:
        if not exc.permanent:
            raise
        raise delivery_rejected(delivery=delivery, reason=str(exc)) from exc


def harbor_report_rejected(*, event: Delivery, report: Delivery, reason: str) -> DeliveryRejected:
    """One of the event's reports was rejected: so is the event, naming it."""
    reason = f"harbor: report delivery {report.pk} rejected: {reason}"
    return delivery_rejected(delivery=event, reason=reason)


def harbor_event_done(*, event: Delivery, reports: list[Delivery]) -> None:
    """Every report of the event was received and processed."""
    delivery_event_processed(delivery=event, report_ids=[r.pk for r in reports])
    logger.info("harbor event delivery %s: reports %s", event.pk, [r.pk for r in reports])
