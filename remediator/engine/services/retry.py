"""When a task whose outside call failed transiently tries again.

A rate limit (a ProviderError with ``retry_after``, e.g. GitHub's 403/429 with its reset)
is never slept through in a worker: the task is retried at the reset, at most
GITHUB_RATE_LIMIT_MAX_WAIT later (a reset further away takes several retries), and the
wait is in the action's audit trail. Other transient errors back off exponentially
(ACTION_DISPATCH_BACKOFF * 2^retries). Either way ACTION_DISPATCH_RETRIES bounds it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from remediator.core.errors import ProviderError
from remediator.engine.audit import audit_record
from remediator.engine.models import RemediationAction

MIN_DELAY = 1.0
"""A reset already past (clocks differ) or ``retry-after: 0`` still waits a second."""


def action_retry_delay(
    *, action_id: int, error: ProviderError, retries: int, operation: str
) -> float | None:
    """Seconds until the task retries after ``error`` (its ``retries`` so far), or None
    once ACTION_DISPATCH_RETRIES are used up. A rate limit's wait is audited."""
    if retries >= settings.ACTION_DISPATCH_RETRIES:
        return None
    if error.retry_after is None:
        return settings.ACTION_DISPATCH_BACKOFF * 2**retries
    asked = max(error.retry_after, MIN_DELAY)
    delay = min(asked, max(settings.GITHUB_RATE_LIMIT_MAX_WAIT, MIN_DELAY))
    at = timezone.now() + timedelta(seconds=delay)
    action = RemediationAction.objects.filter(pk=action_id).first()
    if action is not None:
        further = f"; the reset is {asked:.0f} s away" if delay < asked else ""
        audit_record(
            kind="provider_call",
            action=action,
            actor_label="system",
            message=(
                f"{operation}: rate limited ({error.status or '?'}): retried at "
                f"{at:%Y-%m-%dT%H:%M:%SZ} (in {delay:.0f} s{further}), retry {retries + 1} "
                f"of {settings.ACTION_DISPATCH_RETRIES}; no worker waits meanwhile"
            ),
            data={
                "operation": operation,
                "rate_limited": True,
                "retry_at": at.isoformat(),
                "retry_in_s": round(delay, 1),
                "reset_in_s": round(asked, 1),
                "retry": retries + 1,
            },
        )
    return delay
