"""A Kubernetes API server for tests: ``GET /api/v1/pods`` answered as the API concepts
document chunked lists ("Retrieving large results sets in chunks"): at most ``limit`` items
a page (fewer when ``page_size`` says so), an opaque ``metadata.continue`` while more
remain, ``410 Gone`` with a ``Status`` (reason ``Expired``, an inconsistent continue token)
for a continue token that expired, and ``Status`` bodies for 401 and 403. Items carry no
``kind``/``apiVersion``, as in the API's PodList (kubectl adds them). Also the service
account files and the CA and server certificate an HTTPS API server in a test uses
(made with the ``openssl`` command: the ``cryptography`` package is not installed).
"""

from __future__ import annotations

import base64
import copy
import json
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from werkzeug import Request, Response

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)
FORBIDDEN = (
    'pods is forbidden: User "system:serviceaccount:remediator:remediator-inventory" '
    'cannot list resource "pods" in API group "" at the cluster scope'
)


def real_pods() -> list[dict]:
    """Three pods as ``kubectl get pods -A -o json`` shows them: the kuard pod list's
    ReplicaSet pod, the ``kubectl run`` Pod of ``pod_alpine_3_10`` and the ``shop`` api
    Deployment's pod of ``update_pod_status`` (tests/fixtures/*/README.md name the sources)."""
    pods = json.loads((FIXTURES / "inventory" / "kubectl_pods_kuard.json").read_text())["items"]
    for review in ("pod_alpine_3_10.json", "update_pod_status.json"):
        pod = json.loads((FIXTURES / "admission" / review).read_text())["request"]["object"]
        pod["metadata"].setdefault("namespace", "default")
        pods.append(pod)
    return pods


def kubectl_list(pods: list[dict]) -> dict:
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": pods}


def _status(code: int, reason: str, message: str, **metadata: str) -> Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": metadata,
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return Response(json.dumps(body), status=code, content_type="application/json")


def _continue_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


class FakeApiServer:
    """Lists ``pods`` to a caller bearing ``token``; ``seen`` holds each request's query
    arguments and Authorization header, ``after_page`` runs after each page served."""

    def __init__(self, pods: list[dict], token: str, *, page_size: int = 1) -> None:
        self.pods = [
            {k: v for k, v in copy.deepcopy(p).items() if k not in ("kind", "apiVersion")}
            for p in pods
        ]
        self.token = token
        self.page_size = page_size
        self.expire = 0
        """How many of the next requests with a continue token answer 410 Gone."""
        self.forbid = False
        self.seen: list[tuple[dict[str, str], str]] = []
        self.issued: list[str] = []
        """The continue tokens handed out, in order."""
        self.after_page: Callable[[], None] = lambda: None

    def serve(self, server) -> FakeApiServer:
        server.expect_request("/api/v1/pods", method="GET").respond_with_handler(self.handle)
        return self

    def handle(self, request: Request) -> Response:
        args = dict(request.args)
        self.seen.append((args, request.headers.get("Authorization", "")))
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        if self.forbid:
            return _status(403, "Forbidden", FORBIDDEN)
        offset = 0
        if args.get("continue"):
            if self.expire:
                self.expire -= 1
                return _status(410, "Expired", EXPIRED, **{"continue": _continue_token(1)})
            offset = json.loads(base64.urlsafe_b64decode(args["continue"]))["offset"]
        size = min(int(args.get("limit") or len(self.pods)), self.page_size)
        items = self.pods[offset : offset + size]
        metadata = {"resourceVersion": "550090"}
        if offset + size < len(self.pods):
            metadata["continue"] = _continue_token(offset + size)
            self.issued.append(metadata["continue"])
            metadata["remainingItemCount"] = len(self.pods) - offset - size
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": metadata, "items": items}
        self.after_page()
        return Response(json.dumps(body), content_type="application/json")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(directory: Path, name: str) -> Path:
    """A self-signed CA certificate (and its key) in ``directory``: ``<name>.crt``."""
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={name}",
        cwd=directory,
    )  # fmt: skip
    return directory / f"{name}.crt"


def tls_material(directory: Path) -> tuple[Path, ssl.SSLContext, Path]:
    """In ``directory``: (a CA's certificate, a server context for 127.0.0.1 it signed,
    a stranger CA's certificate that signed nothing)."""
    make_ca(directory, "ca")
    return directory / "ca.crt", server_context(directory), make_ca(directory, "stranger")


def server_context(directory: Path) -> ssl.SSLContext:
    """A server context with a certificate for 127.0.0.1 signed by ``directory/ca.crt``."""
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=kubernetes",
        cwd=directory,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
        cwd=directory,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "server.crt", directory / "server.key")
    return context


@pytest.fixture(scope="session")
def api_tls(tmp_path_factory) -> tuple[Path, ssl.SSLContext]:
    """(the cluster CA's certificate, the API server's TLS context)."""
    directory = tmp_path_factory.mktemp("kubernetes-ca")
    make_ca(directory, "ca")
    return directory / "ca.crt", server_context(directory)
