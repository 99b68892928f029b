"""What the engine asks of Aqua: mark an image risky, lift that, re-scan.

Never raises: a failure is logged and audited, and the caller carries on
(a transition must not fail because Aqua is down).
"""

from __future__ import annotations

import logging

from django.utils import timezone

from remediator.audit import audit_record
from remediator.models import RemediationAction
from remediator.providers.aqua import AquaClient, AquaImage
from remediator.providers.base import ProviderError

log = logging.getLogger(__name__)


def _image(action: RemediationAction) -> AquaImage:
    repository = action.repository
    return AquaImage.of(repository.registry, repository.name, action.tag.name or "latest")


def _failed(action: RemediationAction, what: str, exc: Exception) -> bool:
    log.warning("action %s: %s failed: %s", action.pk, what, exc)
    audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:aqua",
        message=f"{what} failed: {exc}",
        data={"provider": "aqua", "error": str(exc)[:500]},
    )
    return False


def image_risky_mark(*, action: RemediationAction, reason: str) -> bool:
    """Disallow the action's image in Aqua (when Aqua is configured)."""
    if not AquaClient.configured():
        return False
    try:
        AquaClient().disallow([_image(action)], comment=f"Remediator action {action.pk}: {reason}")
    except ProviderError as exc:
        return _failed(action, "marking the image risky in Aqua", exc)
    RemediationAction.objects.filter(pk=action.pk).update(risky_marked=True)
    action.risky_marked = True
    audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:aqua",
        message=f"image {action.tag} marked risky (disallowed) in Aqua: {reason}",
    )
    return True


def image_risky_lift(*, action: RemediationAction, reason: str) -> bool:
    """Allow the image again in Aqua, when Remediator disallowed it."""
    if not action.risky_marked or not AquaClient.configured():
        return False
    try:
        AquaClient().allow([_image(action)], comment=f"Remediator action {action.pk}: {reason}")
    except ProviderError as exc:
        return _failed(action, "lifting the risky mark in Aqua", exc)
    RemediationAction.objects.filter(pk=action.pk).update(risky_marked=False)
    action.risky_marked = False
    audit_record(
        kind="provider_call",
        action=action,
        actor_label="provider:aqua",
        message=f"risky mark of {action.tag} lifted (allowed) in Aqua: {reason}",
    )
    return True


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
