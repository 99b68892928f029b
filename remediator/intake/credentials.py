"""Which scanner a delivery may speak as: the credential it was accepted with decides.

The webhook keeps, in the delivery's ``headers``, how the post was authenticated
(``auth``), the setting whose secret it was (``credential``), the source whose webhook
checked it (``accepted_at``) and the report formats that secret speaks for
(``speaks_for``: those whose own webhook accepts the same secret; see
``remediator/api/webhook_auth.py``). A report in a format its credential does not speak
for (a Trivy report posted to ``auto`` with ``WEBHOOK_SECRET_AUTO``) is evidence of the
source that accepted it, not of Trivy: its witness key is namespaced
(``auto:trivy:trivy``), so it closes only findings that such reports listed, never one
that only Trivy saw. Deliveries with no ``speaks_for`` (``manage.py ingest``, reports
fetched from Harbor's API, bodies stored before this rule) speak for their format.
"""

from __future__ import annotations

from dataclasses import replace

from findings.models import Delivery
from findings.parsers.base import ParsedScan

CREDENTIAL_HEADERS = ("auth", "credential", "accepted_at", "speaks_for")


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
