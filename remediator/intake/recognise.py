"""Recognising a report: its format, its image, and its scans.

Two moments, one parse of the findings per delivery:

- at post time (``report_check``) the webhook answers 422 for a body that is no usable
  report. It parses the report *without its findings* (``findings.parsers.head``): the
  parsers refuse a report only for the shapes the head keeps, so the answer is the one a
  full parse would give, at a cost that does not grow with the findings;
- when the delivery is processed (``report_parse``) the report is parsed once, in full,
  unless it is an unchanged re-scan (the same findings as its scanner's newest scan of the
  tag: its head is enough, ``findings.ingest`` takes that scan's findings).

Harbor's scan events are recognised here too (``harbor.py`` says what they hold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from findings.models import Delivery, Scan
from findings.parsers import MULTI_IMAGE, detect, parse, parse_all, report_head
from findings.parsers.base import ImageRef, ParsedScan, ParseError
from findings.parsers.head import without_findings
from findings.parsers.images import parse_image_reference

from .credentials import scan_as_credential_allows
from .harbor import harbor_event_parse, is_harbor_event
from .store import delivery_rejected

IMAGE_HEADER = "X-Remediator-Image"
"""The webhook header that names the image, like ``?image=`` (see remediator/api/webhooks.py)."""
_IMAGE_FIELDS = {
    "aqua": '"image" (or "imageName") and "digest"',
    "generic": '"imageName" (with "tag" and "digest")',
}
EVENT_SOURCES = ("harbor", "auto")
"""Sources whose deliveries may hold a Harbor event rather than a report."""


def _how_to_name(parsed: ParsedScan) -> str:
    ways = (
        "name it with ?image=registry/repo:tag on the webhook URL, "
        f"the header {IMAGE_HEADER}: registry/repo:tag, --image on the command line"
    )
    fields = _IMAGE_FIELDS.get(parsed.source)
    return f"{ways}, or add {fields} to the body" if fields else ways


def resolve_image(parsed: ParsedScan, hint: str) -> ImageRef:
    """The image a report is about: an explicit hint wins, the report fills gaps."""
    if not hint:
        if parsed.image is None:
            raise ParseError(f"{parsed.source}: the report names no image; {_how_to_name(parsed)}")
        return parsed.image
    given = parse_image_reference(hint)
    found = parsed.image
    return ImageRef(
        registry=given.registry,
        repository=given.repository,
        tag=given.tag or (found.tag if found else ""),
        digest=given.digest or (found.digest if found else ""),
    )


def cloudevent_id(document: object) -> str:
    """A CloudEvent's own id (Harbor's CloudEvents format): the sender's delivery id
    when no header names one."""
    if isinstance(document, dict) and "specversion" in document:
        event_id = document.get("id")
        if isinstance(event_id, str | int) and str(event_id).strip():
            return str(event_id).strip()
    return ""


def holds_event(source: str, document: object) -> bool:
    """Is this decoded body, received as ``source``, a Harbor scan event?"""
    return source in EVENT_SOURCES and is_harbor_event(document)


class Unusable(Exception):
    """The body is no usable report: ``error`` is the API's error code, ``str()`` why."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


def report_check(source: str, document: object, image_hint: str) -> str:
    """The Harbor event kind of ``document`` ('other' for an event type not acted on), or
    '' for a usable report; Unusable (``invalid_event``, ``unknown_format``, ``no_image``)
    for neither. Reads the report's head only (the module doc says why that is enough)."""
    if holds_event(source, document):
        try:
            return harbor_event_parse(document).kind or "other"
        except ParseError as exc:
            raise Unusable("invalid_event", str(exc)) from None
    try:
        slug = detect(document) if source == "auto" else source
        scans = parse_all(slug, without_findings(slug, document))
    except ParseError as exc:
        raise Unusable("unknown_format", str(exc)) from None
    if len(scans) != 1 or scans[0].source in MULTI_IMAGE:
        return ""  # one scan per image, each naming its image
    try:
        resolve_image(scans[0], image_hint)
    except ParseError as exc:
        raise Unusable("no_image", str(exc)) from None
    return ""


@dataclass(frozen=True)
class Parsed:
    scans: tuple[ParsedScan, ...]
    images: list[ImageRef | None]
    multi: bool
    """The report holds several images (one scan each)."""
    findings_digest: str = ""
    full: Callable[[], ParsedScan] | None = None
    """Set when ``scans`` holds the report without its findings, because they are the
    same as its scanner's newest scan of the tag: parses them, should that change."""


def _same_as_newest(head: ParsedScan, image: ImageRef, digest: str) -> bool:
    """The scanner's newest successful scan of the tag had exactly these findings."""
    newest = (
        Scan.objects.filter(
            tag__repository__registry=image.registry,
            tag__repository__name=image.repository,
            tag__name=image.tag,
            scanner_key=head.scanner_key,
            failure="",
        )
        .order_by("-scanned_at", "-id")
        .values_list("findings_digest", flat=True)
        .first()
    )
    return bool(digest) and newest == digest


def report_parse(delivery: Delivery, document: object) -> Parsed:
    """The report's scans and the image of each; a body that is no usable report rejects
    the delivery (DeliveryRejected). An unchanged re-scan is not parsed past its head."""
    try:
        quick = report_head(delivery.source, document)
        if quick is not None and not quick[0].failure:
            head, digest = quick
            head = scan_as_credential_allows(delivery, head)
            image = resolve_image(head, delivery.image_hint)
            if _same_as_newest(head, image, digest):
                source = delivery.source
                return Parsed(
                    (head,),
                    [image],
                    False,
                    digest,
                    lambda: scan_as_credential_allows(delivery, parse(source, document)),
                )
        scans = tuple(
            scan_as_credential_allows(delivery, scan)
            for scan in parse_all(delivery.source, document)
        )
        multi = len(scans) != 1 or scans[0].source in MULTI_IMAGE
        images = (
            [s.image for s in scans] if multi else [resolve_image(scans[0], delivery.image_hint)]
        )
    except ParseError as exc:
        raise delivery_rejected(delivery=delivery, reason=str(exc)) from exc
    return Parsed(scans, images, multi, quick[1] if quick and not multi else "")
