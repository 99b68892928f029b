"""Recognising a report: its format, its image, its scans, and as whom it may speak.

Two moments, one parse of the findings per delivery:

- at post time (``report_check``) the webhook answers 422 for a body that is no usable
  report. It parses the report *without its findings* (``findings.parsers.head``): the
  parsers refuse a report only for the shapes the head keeps, so the answer is the one a
  full parse would give, at a cost that does not grow with the findings;
- when the delivery is processed (``report_parse``) the report is parsed once, in full,
  unless it is an unchanged re-scan (the same findings as its scanner's newest scan of the
  tag: its head is enough, ``findings.ingest`` takes that scan's findings).

As whom a report speaks: the webhook keeps, in the delivery's ``headers``, how the post
was authenticated (``auth``), the setting whose secret it was (``credential``), the source
whose webhook checked it (``accepted_at``) and the report formats that secret speaks for
(``speaks_for``: those whose own webhook accepts the same secret; see
``remediator/api/webhook_auth.py``). A report in a format its credential does not speak
for (a Trivy report posted to ``auto`` with ``WEBHOOK_SECRET_AUTO``) is evidence of the
source that accepted it, not of Trivy: its witness key is namespaced
(``auto:trivy:trivy``), so it closes only findings that such reports listed, never one
that only Trivy saw. Deliveries with no ``speaks_for`` (``manage.py ingest``, bodies
stored before this rule) speak for their format; a report fetched from Harbor speaks as
its event's credential allows.

Harbor's scan events are no reports: ``harbor.py`` reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from findings.models import Delivery, Scan
from findings.parsers import MULTI_IMAGE, detect, parse, parse_all, report_head
from findings.parsers.base import ImageRef, ParsedScan, ParseError
from findings.parsers.head import without_findings
from findings.parsers.images import parse_image_reference

CREDENTIAL_HEADERS = ("auth", "credential", "accepted_at", "speaks_for")
"""The credential facts the webhook keeps among a delivery's headers."""
IMAGE_HEADER = "X-Remediator-Image"
"""The webhook header that names the image, like ``?image=`` (see remediator/api/webhooks.py)."""
_IMAGE_FIELDS = {
    "aqua": '"image" (or "imageName") and "digest"',
    "generic": '"imageName" (with "tag" and "digest")',
}


def credential_headers(headers: dict) -> dict:
    """The credential facts among a delivery's headers."""
    return {key: headers[key] for key in CREDENTIAL_HEADERS if key in headers}


def scan_as_credential_allows(delivery: Delivery, scan: ParsedScan) -> ParsedScan:
    """``scan`` as the delivery's credential lets it speak: unchanged when the credential
    speaks for its format, else with its witness namespaced under the accepting source."""
    headers = delivery.headers or {}
    speaks_for = headers.get("speaks_for")
    if not isinstance(speaks_for, list) or scan.source in speaks_for:
        return scan
    scope = headers.get("accepted_at") or delivery.source
    return replace(scan, witness_scope=str(scope))


def delivery_credential(delivery: Delivery) -> dict | None:
    """What the delivery was accepted with, for its page and the API; None for a
    delivery that came in without a webhook credential (command line, Harbor's API) or
    was stored before credentials were recorded."""
    facts = credential_headers(delivery.headers or {})
    if "speaks_for" not in facts:
        return None
    speaks_for = facts.get("speaks_for")
    return {
        "method": str(facts.get("auth", "")),
        "setting": str(facts.get("credential", "")),
        "accepted_at": str(facts.get("accepted_at", delivery.source)),
        "speaks_for": [str(slug) for slug in speaks_for] if isinstance(speaks_for, list) else None,
    }


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


class Unusable(Exception):
    """The body is no usable report: ``error`` is the API's error code, ``str()`` why."""

    def __init__(self, error: str, detail: str) -> None:
        super().__init__(detail)
        self.error = error


def report_check(source: str, document: object, image_hint: str) -> None:
    """Unusable (``unknown_format``, ``no_image``) unless ``document`` is a usable report of
    ``source``. Reads the report's head only (the module doc says why that is enough)."""
    try:
        slug = detect(document) if source == "auto" else source
        scans = parse_all(slug, without_findings(slug, document))
    except ParseError as exc:
        raise Unusable("unknown_format", str(exc)) from None
    if len(scans) != 1 or scans[0].source in MULTI_IMAGE:
        return  # one scan per image, each naming its image
    try:
        resolve_image(scans[0], image_hint)
    except ParseError as exc:
        raise Unusable("no_image", str(exc)) from None


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
    """The report's scans and the image of each; ParseError for a body that is no usable
    report. An unchanged re-scan is not parsed past its head."""
    quick = report_head(delivery.source, document)
    if quick is not None and not quick.scan.failure:
        head = scan_as_credential_allows(delivery, quick.scan)
        image = resolve_image(head, delivery.image_hint)
        if _same_as_newest(head, image, quick.findings_digest):
            source = delivery.source
            return Parsed(
                scans=(head,),
                images=[image],
                multi=False,
                findings_digest=quick.findings_digest,
                full=lambda: scan_as_credential_allows(delivery, parse(source, document)),
            )
    scans = tuple(
        scan_as_credential_allows(delivery, scan) for scan in parse_all(delivery.source, document)
    )
    multi = len(scans) != 1 or scans[0].source in MULTI_IMAGE
    images = [s.image for s in scans] if multi else [resolve_image(scans[0], delivery.image_hint)]
    digest = quick.findings_digest if quick and not multi else ""
    return Parsed(scans=scans, images=images, multi=multi, findings_digest=digest)
