"""Where the Kubernetes API is and which token proves who asks.

In a pod (the inventory CronJob) the kubelet sets ``KUBERNETES_SERVICE_HOST`` and
``KUBERNETES_SERVICE_PORT`` and mounts the service account's ``token`` and ``ca.crt``
under ``KUBERNETES_SERVICEACCOUNT_DIR``: the API is called over https, verified with that
CA, and the token file is read again for every request because the kubelet rotates it.
Outside a cluster an explicit API URL is called with ``KUBERNETES_TOKEN`` (or
``KUBERNETES_TOKEN_FILE``), verified with ``KUBERNETES_CA_BUNDLE`` or the system's store.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from django.conf import settings
from requests.auth import AuthBase

from remediator.core.errors import ProviderError
from remediator.core.secrets import MissingSecret, read_secret
from remediator.integrations.outbound import outbound_url_problem

PROVIDER = "kubernetes"


class KubernetesError(ProviderError):
    """The pod list could not be read; the message names why (never a token)."""

    def __init__(self, message: str, *, permanent: bool = True, status: int | None = None):
        super().__init__(f"{PROVIDER}: {message}", permanent=permanent, status=status)


class BearerToken(AuthBase):
    """``Authorization: Bearer <token>``, the token fetched again for every request."""

    def __init__(self, read: Callable[[], str]) -> None:
        self.read = read

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.read()}"
        return request


@dataclass(frozen=True)
class ApiAccess:
    url: str
    auth: BearerToken
    verify: str | bool
    """The CA file to verify the API server with (True: the system's trust store)."""
    who: str
    """Who asks, for messages: the service account, or the account of KUBERNETES_TOKEN."""
    token_from: str
    """Where the token comes from, for messages (never the token)."""


def _token_file(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except OSError as exc:
        raise KubernetesError(
            f"cannot read the service account token {path}: {exc.strerror}"
        ) from None
    if not token:
        raise KubernetesError(f"the service account token {path} is empty")
    return token


def _token_env() -> str:
    try:
        return read_secret("KUBERNETES_TOKEN")
    except MissingSecret as exc:
        raise KubernetesError(f"--api-url needs a token: {exc}") from None


def in_cluster() -> ApiAccess:
    """The API of the cluster this pod runs in, with the pod's service account."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port.isdigit():
        raise KubernetesError(
            "not in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
            "are not set (outside a cluster: --api-url URL with KUBERNETES_TOKEN)"
        )
    directory = Path(settings.KUBERNETES_SERVICEACCOUNT_DIR)
    token, ca = directory / "token", directory / "ca.crt"
    if not ca.is_file():
        raise KubernetesError(
            f"no service account CA at {ca} (is automountServiceAccountToken off?)"
        )
    _token_file(token)
    host = f"[{host}]" if ":" in host else host
    return ApiAccess(
        f"https://{host}:{port}",
        BearerToken(lambda: _token_file(token)),
        str(ca),
        who="the service account",
        token_from=f"the service account token {token}",
    )


def out_of_cluster(api_url: str) -> ApiAccess:
    """``api_url`` (https, or http to a PLAIN_HTTP_HOSTS host) with ``KUBERNETES_TOKEN``."""
    problem = outbound_url_problem(api_url)
    if problem:
        raise KubernetesError(f"--api-url: {problem}")
    _token_env()
    verify = settings.KUBERNETES_CA_BUNDLE or True
    return ApiAccess(
        api_url.rstrip("/"),
        BearerToken(_token_env),
        verify,
        who="the account of KUBERNETES_TOKEN",
        token_from="the token in KUBERNETES_TOKEN",
    )
