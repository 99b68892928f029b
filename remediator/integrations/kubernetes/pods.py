"""Every pod of a cluster as one PodList: ``GET /api/v1/pods?limit=500``, page by page.

Pagination follows the API concepts' "Retrieving large results sets in chunks": each page's
``metadata.continue`` asks for the next; a continue token that expired while the list was
read answers ``410 Gone``, and the list is then started again from the first page (once:
the document stays one consistent snapshot). Items stop being collected once there are more
than ``max_pods``. Every request's timeouts are cut to what is left of one deadline for the
whole list, a body is read in chunks against that deadline and ``max_page_bytes``, and
nothing is retried here: the next CronJob run is the retry.
"""

from __future__ import annotations

import time

import requests
from django.conf import settings

from findings.parsers.base import ParseError
from findings.parsers.jsonload import load_json
from remediator.core.errors import ProviderError
from remediator.integrations.http import TRANSIENT_STATUSES, HttpClient, error_name

from .access import PROVIDER, ApiAccess, KubernetesError

PODS = "/api/v1/pods"
PAGE_SIZE = 500
CHUNK = 64 * 1024
ANY_STATUS = range(100, 600)


class _Expired(Exception):
    """The continue token expired (410 Gone) before the next page was asked for."""


class _Lister:
    def __init__(self, access: ApiAccess, deadline_s: float, max_page_bytes: int, max_depth: int):
        self.access = access
        self.deadline_s = deadline_s
        self.deadline = time.monotonic() + deadline_s
        self.max_page_bytes = max_page_bytes
        self.max_depth = max_depth
        self.http = HttpClient(
            PROVIDER, access.url, auth=access.auth, retries=0, verify=access.verify
        )

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise KubernetesError(
                f"the pod list took longer than KUBERNETES_LIST_DEADLINE ({self.deadline_s:g} s)",
                permanent=False,
            )
        return left

    def page(self, token: str) -> dict:
        params = {"limit": PAGE_SIZE, **({"continue": token} if token else {})}
        left = self._left()
        timeout = (
            min(settings.PROVIDER_CONNECT_TIMEOUT, left),
            min(settings.PROVIDER_READ_TIMEOUT, left),
        )
        try:
            response = self.http.request(
                "GET",
                PODS,
                params=params,
                expected=ANY_STATUS,
                timeout=timeout,
                stream=True,
            )
        except KubernetesError:
            raise
        except ProviderError as exc:
            cause = exc.__cause__
            if not isinstance(cause, requests.RequestException):
                raise KubernetesError(str(exc).removeprefix(f"{PROVIDER}: ")) from exc
            hint = ""
            if "CERTIFICATE_VERIFY_FAILED" in str(cause):
                verify = self.access.verify
                trusted = f"a CA in {verify}" if verify is not True else "the system's trust store"
                hint = f" (its certificate is not signed by {trusted})"
            raise KubernetesError(
                f"the API server at {self.access.url} did not answer: {error_name(cause)}{hint}",
                permanent=False,
            ) from exc
        body = self._body(response)
        status = response.status_code
        if status == 410 and token:
            raise _Expired
        if status != 200:
            raise KubernetesError(
                self._refusal(status, body),
                permanent=status not in TRANSIENT_STATUSES,
                status=status,
            )
        try:
            document = load_json(body, max_depth=self.max_depth)
        except ParseError as exc:
            raise KubernetesError(f"the API server's pod list is not JSON: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("items"), list):
            raise KubernetesError("the API server's answer is not a PodList (no items)")
        return document

    def _body(self, response: requests.Response) -> bytes:
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > self.max_page_bytes:
                    raise KubernetesError(
                        f"a page of the pod list is larger than INVENTORY_MAX_BYTES "
                        f"({self.max_page_bytes} bytes)"
                    )
                chunks.append(chunk)
                self._left()
        except requests.RequestException as exc:
            raise KubernetesError(
                f"the API server's answer broke off: {error_name(exc)}", permanent=False
            ) from exc
        finally:
            response.close()
        return b"".join(chunks)

    def _refusal(self, status: int, body: bytes) -> str:
        """What a non-200 answer means, with the API server's Status message quoted."""
        try:
            message = load_json(body, max_depth=self.max_depth).get("message")
        except (ParseError, AttributeError):
            message = None
        said = f": the API server said {str(message)[:300]!r}" if message else ""
        if status == 401:
            return (
                f"401 Unauthorized: the API server did not accept {self.access.token_from} "
                f"(expired, revoked or another cluster's){said}"
            )
        if status == 403:
            return (
                f"403 Forbidden: {self.access.who} lacks list pods at the cluster scope "
                f"(a ClusterRole allowing list on pods, bound to it){said}"
            )
        if status == 410:
            return f"410 Gone for the first page{said}"
        return f"GET {PODS} answered {status}{said}"


def pod_list(
    access: ApiAccess,
    *,
    max_pods: int,
    deadline_s: float,
    max_page_bytes: int,
    max_depth: int,
) -> dict:
    """Every pod the API server lists, as one ``PodList`` document (the shape of
    ``kubectl get pods -A -o json``). More than ``max_pods`` pods, a refusal, a page past
    ``max_page_bytes`` or nesting deeper than ``max_depth``, or no complete list within
    ``deadline_s`` seconds: a KubernetesError naming it."""
    lister = _Lister(access, deadline_s, max_page_bytes, max_depth)
    try:
        return _collect(lister, max_pods)
    except _Expired:
        pass
    try:
        return _collect(lister, max_pods)
    except _Expired:
        raise KubernetesError(
            "410 Gone: the continue token expired twice while the pods were listed "
            "(the list changes faster than it is read)",
            permanent=False,
        ) from None


def _collect(lister: _Lister, max_pods: int) -> dict:
    """The pages from the first, assembled; ``_Expired`` when a continue token expired."""
    items: list = []
    token, version = "", ""
    while True:
        page = lister.page(token)
        metadata = page.get("metadata") if isinstance(page.get("metadata"), dict) else {}
        version = version or str(metadata.get("resourceVersion") or "")
        items.extend(page["items"])
        if max_pods and len(items) > max_pods:
            raise KubernetesError(
                f"the cluster runs more than INVENTORY_MAX_PODS ({max_pods}) pods: "
                f"stopped listing at {len(items)}"
            )
        token = str(metadata.get("continue") or "")
        if not token:
            break
    return {
        "apiVersion": "v1",
        "kind": "PodList",
        "metadata": {"resourceVersion": version},
        "items": items,
    }
