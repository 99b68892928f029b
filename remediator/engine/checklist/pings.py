"""Whether each build target's CI system and Aqua answer: computed by a worker task, kept
in the shared cache, read by the checklist page (which never waits on a network call).

The page asks for a fresh check when the stored one is older than SETUP_PING_MAX_AGE;
``manage.py check_setup --ping`` checks inline, as ``check_targets --ping`` does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from remediator.core.errors import ProviderError
from remediator.engine.models import BuildTarget
from remediator.engine.services import queue
from remediator.engine.target_checks import target_ping_problem, target_problems
from remediator.integrations.aqua.client import AquaClient

log = logging.getLogger(__name__)
CACHE_KEY = "remediator:setup-pings:v1"
QUEUED_KEY = "remediator:setup-pings:queued"
QUEUED_TIMEOUT = 600
"""A queued check not started by then (worker down) no longer blocks asking again."""


@dataclass(frozen=True)
class Pings:
    as_of: datetime
    targets: dict[int, str] = field(default_factory=dict)
    """Target id -> '' (answers, credentials accepted) or why not."""
    aqua: str | None = None
    """'' when Aqua answered a login, why not otherwise; None: Aqua is not configured."""


def aqua_ping_problem() -> str:
    try:
        return AquaClient().ping()
    except ProviderError as exc:
        return str(exc)


def setup_pings_run() -> Pings:
    """Ask every enabled, well-configured target's CI system and Aqua; store the answers."""
    answers = {
        target.pk: target_ping_problem(target)
        for target in BuildTarget.objects.filter(enabled=True).order_by("id")
        if not target_problems(target)
    }
    aqua = aqua_ping_problem() if AquaClient.configured() else None
    pings = Pings(as_of=timezone.now(), targets=answers, aqua=aqua)
    cache.set(CACHE_KEY, pings, None)
    cache.delete(QUEUED_KEY)
    return pings


def setup_pings_read() -> Pings | None:
    return cache.get(CACHE_KEY)


def setup_pings_stale(pings: Pings | None) -> bool:
    if pings is None:
        return True
    return timezone.now() - pings.as_of > timedelta(seconds=settings.SETUP_PING_MAX_AGE)


def setup_pings_queued() -> bool:
    return cache.get(QUEUED_KEY) is not None


def setup_pings_enqueue() -> bool:
    """Queue one check for the worker; False when one is queued already or the broker
    refused (the page then says it has not been checked)."""
    if not cache.add(QUEUED_KEY, timezone.now(), QUEUED_TIMEOUT):
        return False
    try:
        queue.enqueue_setup_pings()
    except Exception:
        cache.delete(QUEUED_KEY)
        log.warning("setup pings not queued: the broker refused", exc_info=True)
        return False
    return True
