"""Which digest each tag of a review names now, asked of its registry.

A pod's ``shop/api:1`` is judged by the digest the registry serves for ``1`` at this
moment, not by the digest the tag had when it was last scanned: an unscanned image
pushed over a clean tag is then an unknown digest. The tags of one review are asked in
parallel (``WORKERS`` threads per process) within one deadline,
``ADMISSION_REGISTRY_TIMEOUT``; a tag not answered by then is *unverified*, and so is
one whose registry cannot be asked (down, unknown host, credentials refused), which
``ADMISSION_UNVERIFIED_TAGS`` then decides. Answers, failures included, are remembered
for ``ADMISSION_REGISTRY_CACHE_SECONDS``, and a registry that did not answer at all is
not asked again for that long, so a registry outage costs one deadline, not one per
review. Every call is audited through the admission write buffer, off the request path.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings

from findings.parsers.base import ImageRef
from remediator.core.metrics import ADMISSION_TAG_LOOKUPS
from remediator.integrations.http import CallRecord
from remediator.integrations.registry.client import RegistryError, tag_digest

from ..audit import provider_call_event
from .buffer import BUFFER

WORKERS = 8
MAX_REMEMBERED = 20_000
DEFAULT_TAG = "latest"
TagKey = tuple[str, str]
"""(registry/repository, tag)."""


@dataclass(frozen=True)
class TagAnswer:
    digest: str = ""
    """What the registry serves for the tag now ('' when it could not say)."""
    problem: str = ""
    """Why the registry could not be asked (the tag is then unverified)."""
    missing: bool = False
    """The registry answered that there is no such tag."""


class _State:
    """This process's answers, registries that are down, calls to audit, and threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.answers: dict[TagKey, tuple[float, TagAnswer]] = {}
        self.down: dict[str, tuple[float, str]] = {}
        self.calls: deque[CallRecord] = deque(maxlen=MAX_REMEMBERED)
        self.pool: ThreadPoolExecutor | None = None
        self.pid = 0

    def executor(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.pool is None or self.pid != os.getpid():  # a forked worker starts afresh
                self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="registry")
                self.pid = os.getpid()
            return self.pool

    def remember(self, key: TagKey, answer: TagAnswer, *, registry: str, down: bool) -> None:
        until = time.monotonic() + settings.ADMISSION_REGISTRY_CACHE_SECONDS
        with self.lock:
            if len(self.answers) >= MAX_REMEMBERED:
                self.answers.clear()
            self.answers[key] = (until, answer)
            if down:
                self.down[registry] = (until, answer.problem)

    def recall(self, key: TagKey, registry: str, now: float) -> TagAnswer | None:
        with self.lock:
            until, answer = self.answers.get(key, (0.0, None))
            if answer is not None and until > now:
                return answer
            until, problem = self.down.get(registry, (0.0, ""))
        return TagAnswer(problem=problem) if until > now else None


STATE = _State()


def tag_lookups_clear() -> None:
    """Forget every registry answer and outage (tests; a registry fixed by hand)."""
    with STATE.lock:
        STATE.answers.clear()
        STATE.down.clear()


def _ask(ref: ImageRef, key: TagKey, deadline: float) -> TagAnswer:
    if time.monotonic() >= deadline:
        return TagAnswer(problem="its registry was not asked before the deadline")
    try:
        digest = tag_digest(
            ref.registry, ref.repository, key[1], deadline=deadline, on_call=STATE.calls.append
        )
    except RegistryError as exc:
        answer = TagAnswer(problem=f"{ref.registry}: {_reason(exc)}", missing=exc.missing)
        STATE.remember(key, answer, registry=ref.registry, down=exc.unreachable)
        return answer
    except Exception as exc:  # a bug here must not fail the review: the tag is unverified
        return TagAnswer(problem=f"{ref.registry}: {type(exc).__name__}")
    answer = TagAnswer(digest=digest)
    STATE.remember(key, answer, registry=ref.registry, down=False)
    return answer


NETWORK_ERRORS = {
    "NewConnectionError": "connection refused or host unknown",
    "NameResolutionError": "host unknown",
    "ConnectTimeoutError": "connection timed out",
    "ReadTimeoutError": "no answer in time",
    "ProtocolError": "connection broken",
    "SSLError": "TLS failed",
}


def _reason(exc: RegistryError) -> str:
    """The error without the URL the HTTP client puts first (the reference says it)."""
    text = str(exc)
    if " failed: " not in text:
        return text
    name = text.split(" failed: ", 1)[1]
    return NETWORK_ERRORS.get(name, name)


def _audit_calls() -> None:
    while STATE.calls:
        try:
            record = STATE.calls.popleft()
        except IndexError:
            return
        BUFFER.add(provider_call_event(record), [])


def tags_resolve(refs: Iterable[ImageRef]) -> dict[TagKey, TagAnswer]:
    """{(registry/repository, tag): what its registry says now} for tag-only ``refs``;
    returns within ADMISSION_REGISTRY_TIMEOUT (plus scheduling noise)."""
    now = time.monotonic()
    deadline = now + settings.ADMISSION_REGISTRY_TIMEOUT
    answers: dict[TagKey, TagAnswer] = {}
    asked: dict[TagKey, Future] = {}
    for ref in refs:
        key = (ref.name, ref.tag or DEFAULT_TAG)
        if key in answers or key in asked:
            continue
        known = STATE.recall(key, ref.registry, now)
        if known is not None:
            answers[key] = known
            ADMISSION_TAG_LOOKUPS.labels(result="remembered").inc()
        else:
            asked[key] = STATE.executor().submit(_ask, ref, key, deadline)
    if asked:
        wait(asked.values(), timeout=max(0.0, deadline - time.monotonic()))
    for key, future in asked.items():
        if future.done():
            answers[key] = future.result()
        else:
            future.cancel()
            answers[key] = TagAnswer(
                problem=f"its registry did not answer within "
                f"{settings.ADMISSION_REGISTRY_TIMEOUT:g} s"
            )
        answer = answers[key]
        result = "resolved" if answer.digest else "missing" if answer.missing else "unverified"
        ADMISSION_TAG_LOOKUPS.labels(result=result).inc()
    _audit_calls()
    return answers
