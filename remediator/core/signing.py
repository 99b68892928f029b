"""Standard Webhooks signatures (https://www.standardwebhooks.com/), both ways.

``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``; a
header may carry several space-separated signatures so secrets can rotate.
Secrets may be given raw or as ``whsec_<base64>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time

TOLERANCE_SECONDS = 5 * 60
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
"""ASCII digits only: ``int()`` also takes '1_700', other scripts' digits, 5,000 digits."""
MAX_SIGNATURES = 16


def _key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode()


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_webhooks_headers(secret: str, msg_id: str, body: bytes) -> dict[str, str]:
    timestamp = int(time.time())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks_signature(secret, msg_id, timestamp, body),
    }


def standard_webhooks_verify(
    secrets: list[str],
    *,
    msg_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    now: float | None = None,
) -> str:
    """'' when one signature matches one secret, else the reason it does not.

    Any header value is safe here: each is checked for shape before it is used.
    """
    if not _TIMESTAMP.fullmatch(timestamp.strip()):
        return "webhook-timestamp is not a Unix time in seconds (1 to 12 digits)"
    sent_at = int(timestamp)
    now = time.time() if now is None else now
    if abs(now - sent_at) > TOLERANCE_SECONDS:
        return "webhook-timestamp is more than five minutes away from now"
    offered = [
        part.encode("ascii")
        for part in signature_header.split()[:MAX_SIGNATURES]
        if part.startswith("v1,") and part.isascii()
    ]
    if not offered:
        return "webhook-signature has no v1 signature"
    for secret in secrets:
        expected = standard_webhooks_signature(secret, msg_id, sent_at, body).encode("ascii")
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return ""
    return "webhook-signature does not match"
