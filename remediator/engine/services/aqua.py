"""What the engine asks of Aqua: mark an image risky, lift that, re-scan.

Never raises: a failure is logged and audited, and the caller carries on
(a transition must not fail because Aqua is down).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from remediator.core.errors import ProviderError
from remediator.engine.audit import audit_record
from remediator.engine.models import RemediationAction
from remediator.integrations.aqua.client import AquaClient, AquaImage

log = logging.getLogger(__name__)


def _image(action: RemediationAction) -> AquaImage:
    repository = action.repository
    return AquaImage.of(repository.registry, repository.name, action.tag.name or "latest")


def _failed(action: RemediationAction, what: str, exc: Exception) -> bool:
    log.warning("action %s: %s failed: %r", action.pk, what, str(exc))
    audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:aqua",
        message=f"{what} failed: {exc}",
        data={"provider": "aqua", "error": str(exc)[:500]},
    )
    return False


def _set_risky(*, action: RemediationAction, risky: bool, reason: str) -> bool:
    """Disallow (risky) or allow again the action's image in Aqua; record it on the action."""
    client = AquaClient()
    change = client.disallow if risky else client.allow
    what = "marking the image risky in Aqua" if risky else "lifting the risky mark in Aqua"
    try:
        change([_image(action)], comment=f"Remediator action {action.pk}: {reason}")
    except ProviderError as exc:
        return _failed(action, what, exc)
    RemediationAction.objects.filter(pk=action.pk).update(risky_marked=risky)
    action.risky_marked = risky
    done = "marked risky (disallowed)" if risky else "risky mark lifted (allowed)"
    audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:aqua",
        message=f"image {action.tag} {done} in Aqua: {reason}",
    )
    return True


def image_risky_mark(*, action: RemediationAction, reason: str) -> bool:
    """Disallow the action's image in Aqua (when Aqua is configured)."""
    if not AquaClient.configured():
        return False
    return _set_risky(action=action, risky=True, reason=reason)


def image_risky_lift(*, action: RemediationAction, reason: str) -> bool:
    """Allow the image again in Aqua, when Remediator disallowed it."""
    if not action.risky_marked or not AquaClient.configured():
        return False
    return _set_risky(action=action, risky=False, reason=reason)


def image_rescan_request(*, action: RemediationAction) -> bool:
    """Ask Aqua to scan the action's tag again."""
    if not AquaClient.configured():
        return False
    repository = action.repository
    try:
        AquaClient().rescan(repository.registry, repository.name, action.tag.name or "latest")
    except ProviderError as exc:
        return _failed(action, "asking Aqua to re-scan", exc)
    audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:aqua",
        message=f"asked Aqua to re-scan {action.tag} at {timezone.now():%Y-%m-%d %H:%M}",
    )
    return True
