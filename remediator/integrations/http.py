"""What every outside-system client shares: errors, retries, timeouts, audit.

Each provider module builds an :class:`HttpClient` and calls ``request``.
Transient failures (connection errors, timeouts, 429, 5xx) are retried with
exponential backoff and jitter, honouring ``Retry-After``; what is left is
raised as :class:`ProviderError` with ``permanent`` saying whether trying
again later could help. A client may also follow same-host redirects and know a
provider's rate limits (GitHub's): a rate-limited answer is raised at once as a
transient error carrying ``retry_after``, so no worker sleeps through it and the
Celery task retries at the reset. Every call is reported to
``on_call`` (by default the recorder the engine registers: an AuditEvent) with
the method, the URL without secrets, the status, the duration and any wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from remediator.core.errors import ProviderError
from remediator.core.metrics import provider_call_observe
from remediator.core.redact import SECRET_PARAMS
from remediator.core.secrets import MissingSecret, read_target_secret
from remediator.integrations.outbound import outbound_url_problem
from remediator.integrations.redirects import REDIRECT_STATUSES, redirect_target

RateLimitWait = Callable[[int, Mapping[str, str], str], float | None]
"""(status, headers, body) -> seconds to wait, or None when it is not a rate limit."""

TRANSIENT_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class CallRecord:
    provider: str
    method: str
    url: str
    status: int | None
    duration_ms: int
    error: str = ""
    wait_s: float = 0.0
    """How long the provider asked us to wait (a rate limit): the task retries then."""


def require_secret(env_name: str, *, what: str) -> str:
    """The build-target secret named ``env_name`` (see ``remediator.core.secrets``).

    Raises a permanent :class:`ProviderError` naming the variable (never a value)
    when it is not configured, not an allowed name or not set: no retry can fix
    configuration.
    """
    if not env_name:
        raise ProviderError(f"{what}: no environment variable is named for it", permanent=True)
    try:
        return read_target_secret(env_name)
    except MissingSecret as exc:
        raise ProviderError(f"{what}: {exc}", permanent=True) from exc


def ping_error(check: Callable[[], object]) -> str:
    """'' when ``check`` runs without a ProviderError, else the error's message."""
    try:
        check()
    except ProviderError as exc:
        return str(exc)
    return ""


def truncate_list(items: Iterable[str], limit: int) -> tuple[str, bool]:
    """Items joined with commas, cut at an item boundary to at most ``limit`` chars.

    Returns (text, truncated).
    """
    kept: list[str] = []
    size = 0
    items = list(items)
    for item in items:
        added = len(item) + (1 if kept else 0)
        if size + added > limit:
            return ",".join(kept), True
        kept.append(item)
        size += added
    return ",".join(kept), False


def error_name(exc: requests.RequestException) -> str:
    """What went wrong, by name: the cause urllib3 gave up on (``ReadTimeoutError``,
    ``NewConnectionError``...) rather than the ``ConnectionError`` wrapping it."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return type(reason).__name__ if isinstance(reason, BaseException) else type(exc).__name__


def redact_url(url: str) -> str:
    """The URL without user info or secret query parameters."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    query = urlencode(
        [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query)]
    )
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


_call_recorder: Callable[[CallRecord], None] | None = None


def call_recorder_register(recorder: Callable[[CallRecord], None] | None) -> None:
    """Report every call made by a client built without ``on_call`` to ``recorder``.

    The engine registers its audit trail here at start-up (integrations do not
    import the engine).
    """
    global _call_recorder
    _call_recorder = recorder


def record_call(record: CallRecord) -> None:
    """The default ``on_call``: hand the record to the registered recorder, if any."""
    if _call_recorder is not None:
        _call_recorder(record)


class HttpClient:
    def __init__(
        self,
        provider: str,
        base_url: str = "",
        *,
        auth: Any = None,
        headers: dict[str, str] | None = None,
        on_call: Callable[[CallRecord], None] | None = record_call,
        retries: int | None = None,
        verify: bool | str = True,
        redirects: int = 0,
        rate_limit: RateLimitWait | None = None,
    ) -> None:
        """``redirects``: same-host redirects to follow (see ``redirects.py``).
        ``rate_limit``: recognises the provider's rate-limit answers, which are raised
        as transient with ``retry_after`` (never slept through here); urllib3 then
        leaves 429 and ``Retry-After`` to it."""
        self.provider = provider
        self.redirects = redirects
        self.rate_limit = rate_limit
        self.base_url = base_url.rstrip("/")
        self.on_call = on_call
        self.timeout = (settings.PROVIDER_CONNECT_TIMEOUT, settings.PROVIDER_READ_TIMEOUT)
        self.session = requests.Session()
        self.session.auth = auth
        self.session.verify = verify
        self.session.headers.update({"User-Agent": "Remediator/0.1", **(headers or {})})
        retry = Retry(
            total=settings.PROVIDER_RETRIES if retries is None else retries,
            connect=None,
            backoff_factor=settings.PROVIDER_RETRY_BACKOFF,
            backoff_jitter=settings.PROVIDER_RETRY_BACKOFF,
            backoff_max=60,
            status_forcelist=[s for s in TRANSIENT_STATUSES if not (rate_limit and s == 429)],
            allowed_methods=None,  # POSTs too: every trigger carries a correlation id
            # a client that knows its rate limits hands the wait to the task's retry
            respect_retry_after_header=rate_limit is None,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def request(
        self,
        method: str,
        path: str,
        *,
        expected: Iterable[int] = (200, 201, 202, 204),
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries; return the response when its status is ``expected``.

        Same-host redirects are followed (up to ``redirects`` hops); a rate limit the
        client knows is a transient ProviderError with ``retry_after``.
        """
        expected = set(expected)
        url = self.url(path)
        hops = 0
        while True:
            response = self._send(method, url, expected, **kwargs)
            status = response.status_code
            if status in expected:
                return response
            if status in REDIRECT_STATUSES and hops < self.redirects:
                url = redirect_target(
                    self.provider, method, url, status, response.headers.get("Location", "")
                )
                hops += 1
                continue
            raise ProviderError(
                f"{self.provider}: {method} {redact_url(url)} answered {status}: "
                f"{response.text[:300]}",
                permanent=status not in TRANSIENT_STATUSES,
                status=status,
            )

    def _send(self, method: str, url: str, expected: set[int], **kwargs: Any) -> requests.Response:
        """One call (with urllib3's retries), audited; a rate-limited answer is raised as a
        transient ProviderError saying when to try again."""
        problem = outbound_url_problem(url)
        if problem:
            raise ProviderError(f"{self.provider}: refused to call {problem}", permanent=True)
        kwargs.setdefault("timeout", self.timeout)
        # per call: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
        # verify, which would drop AQUA_CA_BUNDLE or AQUA_VERIFY_TLS=false
        kwargs.setdefault("verify", self.session.verify)
        kwargs["allow_redirects"] = False  # a redirect could carry credentials elsewhere
        started = time.monotonic()
        status: int | None = None
        error = ""
        wait: float | None = None
        try:
            response = self.session.request(method, url, **kwargs)
            status = response.status_code
            if self.rate_limit is not None and status not in expected:
                wait = self.rate_limit(status, response.headers, response.text)
                if wait is not None:
                    error = f"rate limited: retry at {_utc(time.time() + wait)} (in {wait:.0f}s)"
        except requests.RequestException as exc:
            error = error_name(exc)
            raise ProviderError(
                f"{self.provider}: {method} {redact_url(url)} failed: {error}", permanent=False
            ) from exc
        finally:
            provider_call_observe(self.provider, method, time.monotonic() - started, status)
            if self.on_call is not None:
                elapsed = int((time.monotonic() - started) * 1000)
                self.on_call(
                    CallRecord(
                        self.provider,
                        method,
                        redact_url(url),
                        status,
                        elapsed,
                        error,
                        wait or 0.0,
                    )
                )
        if wait is not None:
            raise ProviderError(
                f"{self.provider}: {method} {redact_url(url)} was rate limited ({status}); "
                f"try again after {_utc(time.time() + wait)}",
                permanent=False,
                status=status,
                retry_after=wait,
            )
        return response


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
