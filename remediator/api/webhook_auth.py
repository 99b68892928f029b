"""Who may post to a webhook source: shared secrets from the environment.

``WEBHOOK_SECRET_<SOURCE>`` (e.g. ``WEBHOOK_SECRET_TRIVY``), else
``WEBHOOK_SECRET``; either may be read from a file via ``*_FILE``. A
comma-separated value lists several secrets, so they can rotate ("new,old").

Accepted credentials, any one of:
- ``Authorization: Bearer <secret>`` or ``Authorization: <secret>`` (Harbor's auth header);
- the secret as a path segment ``/api/v1/webhooks/<source>/<secret>/``;
- Standard Webhooks ``webhook-id`` / ``webhook-timestamp`` / ``webhook-signature``;
- GitHub-style ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.
The first two are checked before the body is read, the signatures after.

A credential speaks for the report formats whose own webhook would accept it
(:class:`Credential`): ``WEBHOOK_SECRET_TRIVY`` for Trivy only, the shared
``WEBHOOK_SECRET`` for every source without a secret of its own. A report posted to
``auto`` in a format its credential does not speak for is evidence of ``auto``, not of
that format's scanner (``remediator.intake.recognise``: its witness key is
``auto:<format>:<name>``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from django.conf import settings
from django.http import QueryDict

from findings.parsers import PARSERS
from remediator.core.redact import is_secret_param
from remediator.core.secrets import MissingSecret, read_secret, webhook_secret_names
from remediator.core.signing import standard_webhooks_verify

from .errors import ApiError

logger = logging.getLogger(__name__)

SIGNATURE_HEADERS = ("HTTP_WEBHOOK_SIGNATURE", "HTTP_X_HUB_SIGNATURE_256")


@dataclass(frozen=True)
class Credential:
    """What a post was accepted with: how (``method``), the setting whose secret it was
    (``name``, '' when unauthenticated), the source whose webhook checked it, and the
    report formats that secret speaks for: those whose own webhook accepts it too."""

    method: str
    name: str
    accepted_at: str
    speaks_for: tuple[str, ...]

    def as_headers(self) -> dict[str, object]:
        """Kept with the delivery (its ``headers``), spooled with it when the database is down."""
        return {
            "auth": self.method,
            "credential": self.name,
            "accepted_at": self.accepted_at,
            "speaks_for": list(self.speaks_for),
        }


def webhook_secret_setting(source: str) -> tuple[str, list[str]]:
    """(the setting that holds ``source``'s secrets, those secrets, newest first);
    ('', []) when none is configured."""
    for name in webhook_secret_names(source):
        try:
            value = read_secret(name, required=False)
        except MissingSecret:
            logger.error("%s_FILE cannot be read; webhook %s refuses posts", name, source)
            raise ApiError(403, "not_configured", f"{name}_FILE cannot be read") from None
        secrets = [part.strip() for part in value.split(",") if part.strip()]
        if secrets:
            return name, secrets
    return "", []


def webhook_secrets(source: str) -> list[str]:
    """The secrets accepted for ``source`` (newest first); [] when none is configured."""
    return webhook_secret_setting(source)[1]


def _matching(offered: str, secrets: list[str]) -> str | None:
    """The secret ``offered`` equals, or None."""
    given = offered.encode("utf-8", "surrogatepass")
    found = None
    for secret in secrets:  # no early exit: the time spent does not depend on which matched
        if hmac.compare_digest(given, secret.encode()):
            found = secret
    return found


def _matches(offered: str, secrets: list[str]) -> bool:
    return _matching(offered, secrets) is not None


def _speaks_for(secret: str | None) -> tuple[str, ...]:
    """The formats whose own webhook accepts ``secret`` (None: posting unauthenticated)."""
    formats = []
    for slug in PARSERS:
        try:
            secrets = webhook_secrets(slug)
        except ApiError:  # that source's *_FILE is unreadable: it accepts nothing
            continue
        if secret is None:
            accepted = not secrets and settings.WEBHOOK_ALLOW_UNAUTHENTICATED
        else:
            accepted = _matches(secret, secrets)
        if accepted:
            formats.append(slug)
    return tuple(formats)


def _credential(method: str, source: str, secret: str | None) -> Credential:
    name = webhook_secret_setting(source)[0] if secret is not None else ""
    return Credential(method, name, source, _speaks_for(secret))


def _from_authorization(value: str) -> str:
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest else value.strip()


def authenticate_before_body(meta: dict, source: str, path_secret: str | None) -> Credential | None:
    """The credential that authenticated the request, None if only a signature can,
    or raise ApiError (401 wrong/missing credentials, 403 no secret configured)."""
    secrets = webhook_secrets(source)
    if not secrets:
        if settings.WEBHOOK_ALLOW_UNAUTHENTICATED:
            return _credential("none", source, None)
        names = " or ".join(webhook_secret_names(source))
        raise ApiError(
            403,
            "not_configured",
            f"no secret configured for {source}: set {names} "
            "(or WEBHOOK_ALLOW_UNAUTHENTICATED=true for a local trial)",
        )
    if path_secret is not None:
        matched = _matching(path_secret, secrets)
        if matched is not None:
            return _credential("path", source, matched)
        raise ApiError(401, "unauthorized", "the secret in the URL is wrong")
    authorization = meta.get("HTTP_AUTHORIZATION", "")
    matched = _matching(_from_authorization(authorization), secrets) if authorization else None
    if matched is not None:
        return _credential("authorization", source, matched)
    if any(meta.get(header) for header in SIGNATURE_HEADERS):
        return None
    if authorization:
        raise ApiError(401, "unauthorized", "the Authorization header does not match the secret")
    raise ApiError(
        401,
        "unauthorized",
        "no credentials: send Authorization: Bearer <secret>, a webhook-signature "
        "(Standard Webhooks), X-Hub-Signature-256, or put the secret in the URL",
    )


def refuse_query_secret(query: QueryDict, source: str) -> None:
    """400 when the query string carries a secret (a parameter named like one, or the
    value of a secret of ``source``): query strings end up in logs and proxies. Neither
    the name nor the value is repeated in the answer."""
    secrets = None
    for name, values in query.lists():
        if is_secret_param(name):
            raise ApiError(400, "secret_in_query", _QUERY_SECRET)
        secrets = webhook_secrets(source) if secrets is None else secrets
        if secrets and any(_matches(value.strip(), secrets) for value in values):
            raise ApiError(400, "secret_in_query", _QUERY_SECRET)


_QUERY_SECRET = (
    "a secret must never travel in the query string: send it as Authorization: Bearer "
    "<secret> (or sign the body); rotate a secret that was sent this way"
)


def _github_signature_ok(header: str, secrets: list[str], body: bytes) -> bool:
    algorithm, _, offered = header.strip().partition("=")
    if algorithm != "sha256" or not offered:
        return False
    found = False
    given = offered.strip().lower().encode("utf-8", "surrogatepass")
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        found |= hmac.compare_digest(expected.encode(), given)
    return found


def authenticate_signature(meta: dict, source: str, body: bytes) -> Credential:
    """The credential whose signature verified ``body``, or raise ApiError(401)."""
    secrets = webhook_secrets(source)
    reason = ""
    if meta.get("HTTP_WEBHOOK_SIGNATURE"):
        msg_id = meta.get("HTTP_WEBHOOK_ID", "")
        timestamp = meta.get("HTTP_WEBHOOK_TIMESTAMP", "")
        if not msg_id or not timestamp:
            reason = "webhook-signature needs webhook-id and webhook-timestamp"
        for secret in secrets if msg_id and timestamp else []:
            reason = standard_webhooks_verify(
                [secret],
                msg_id=msg_id,
                timestamp=timestamp,
                signature_header=meta["HTTP_WEBHOOK_SIGNATURE"],
                body=body,
            )
            if not reason:
                return _credential("standard-webhooks", source, secret)
    github = meta.get("HTTP_X_HUB_SIGNATURE_256", "")
    if github:
        for secret in secrets:
            if _github_signature_ok(github, [secret], body):
                return _credential("hub-signature", source, secret)
        reason = reason or "X-Hub-Signature-256 does not match"
    raise ApiError(401, "unauthorized", reason or "the signature does not match")
