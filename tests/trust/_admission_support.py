"""Shared by the admission trust tests (tests/trust/test_02, 04, 08, 09, 10): the
`shop/api` story of tests/fixtures/admission/ (a vulnerable digest, its fixed rebuild, a
clean debug image) and the admission test settings, imported by each test module."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from remediator.engine.models import AdmissionPolicy, AuditEvent
from tests.admission.conftest import TOKEN, URL, admission_settings, answer_of, post_review, sample
from tests.engine.factories import digest, ingest, vuln

VULNERABLE = f"registry.example.com/shop/api@{digest(14)}"
FIXED = f"registry.example.com/shop/api@{digest(15)}"
DEBUG = f"docker.io/library/busybox@{digest(21)}"

__all__ = [
    "DEBUG",
    "FIXED",
    "TOKEN",
    "URL",
    "VULNERABLE",
    "Probe",
    "admission_event",
    "admission_settings",
    "answer_of",
    "post_review",
    "probe_body",
    "probes",
    "sample",
    "shop",
]


@pytest.fixture
def shop(db, settings):
    """The shop/api story scanned: …0e carries a critical CVE, …0f and busybox are
    clean; one enforce policy blocks criticals, and never-scanned images are denied (so
    an image judged by mistake shows)."""
    settings.ADMISSION_UNKNOWN_IMAGES = "deny"
    ingest(vuln("CVE-2024-6119"), image="registry.example.com/shop/api", tag="1.4", digest_no=14)
    ingest(image="registry.example.com/shop/api", tag="1.5", digest_no=15)
    ingest(image="docker.io/library/busybox", tag="1.36", digest_no=21)
    return AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")


def admission_event() -> AuditEvent:
    """The one admission audit event the test caused."""
    return AuditEvent.objects.get(kind=AuditEvent.Kind.ADMISSION)


# --- the bad-input corpora of the Kubernetes routes (tests/fixtures/bad/admission.tsv,
# tests/fixtures/bad/inventory.tsv), driven by tests/trust/test_10_kubernetes_routes_bad_input.py

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
COLUMNS = (
    "name",
    "surface",
    "path",
    "headers",
    "body",
    "patch",
    "settings",
    "status",
    "error",
    "expect",
    "what",
)


@dataclass(frozen=True)
class Probe:
    name: str
    surface: str
    """api (an HTTP POST) or cli (manage.py inventory_import)"""
    path: str
    headers: dict
    body: str
    patch: dict
    settings: dict
    status: int
    """HTTP status, or the command's exit status"""
    error: str
    """the error code (api), or a word of the one stderr line (cli); '-' for none"""
    expect: dict
    """items the answer must have: of the AdmissionReview's response, the push's answer
    or the command's JSON line"""
    what: str


def probes(name: str) -> list[Probe]:
    found = []
    for line in (FIXTURES / "bad" / name).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = dict(zip(COLUMNS, line.split("\t"), strict=True))
        found.append(
            Probe(
                name=cells["name"],
                surface=cells["surface"],
                path=cells["path"],
                headers=_json_cell(cells["headers"]),
                body=cells["body"],
                patch=_json_cell(cells["patch"]),
                settings=_json_cell(cells["settings"]),
                status=int(cells["status"]),
                error=cells["error"],
                expect=_json_cell(cells["expect"]),
                what=cells["what"],
            )
        )
    return found


def _json_cell(text: str) -> dict:
    return {} if text == "-" else json.loads(text)


def _set(document: object, pointer: str, value: object) -> None:
    """Set (or with {"$delete": true} remove) the JSON-pointer ``pointer`` in place."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    key = int(last) if isinstance(node, list) else last
    if value == {"$delete": True}:
        del node[key]
    else:
        node[key] = value


def _deep(levels: int, leaf: object = 1) -> object:
    value = leaf
    for _ in range(levels):
        value = {"a": value}
    return value


def _pod_list(pods: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "kind": "Pod",
                "metadata": {"name": f"p{n}", "namespace": "fleet"},
                "spec": {"containers": [{"name": "c", "image": f"fleet/svc-{n}:1"}]},
            }
            for n in range(pods)
        ],
    }


def _generated(kind: str, n: int) -> bytes:
    if kind == "deep_object":  # a bare object nested n levels: the decoder's own limit
        return b'{"a":' * n + b"1" + b"}" * n
    if kind == "deep_array":
        return b"[" * n + b"]" * n
    if kind == "bytes":  # valid JSON of n bytes
        return b'{"pad": "' + b"x" * (n - 11) + b'"}'
    if kind == "pods":
        return json.dumps(_pod_list(n)).encode()
    if kind == "deep_in_pods":  # n levels inside a pod's labels of a real pod list
        document = json.loads((FIXTURES / "inventory" / "kubectl_pods_kuard.json").read_text())
        document["items"][0]["metadata"]["labels"] = _deep(n)
        return json.dumps(document).encode()
    review = copy.deepcopy(sample("update_pod_ephemeral_debug.json"))
    spec = review["request"]["object"]["spec"]
    if kind == "deep_in_review":  # n levels under request.object.metadata.labels (5 deep)
        review["request"]["object"]["metadata"]["labels"] = _deep(n)
    elif kind == "deep_in_old_object":
        review["request"]["oldObject"]["metadata"]["labels"] = _deep(n)
    elif kind == "containers":  # n containers, one image
        spec["containers"] = [{"name": f"c{i}", "image": DEBUG} for i in range(n)]
    elif kind == "images":  # n containers, each a different never-scanned image
        spec["containers"] = [
            {"name": f"c{i}", "image": f"registry.example.com/pad/i{i}:1"} for i in range(n)
        ]
    elif kind == "groups":
        review["request"]["userInfo"]["groups"] = [f"g{i}" for i in range(n)]
    elif kind == "annotation_bytes":
        review["request"]["object"]["metadata"]["annotations"] = {"big": "x" * n}
    else:
        raise ValueError(f"unknown generator {kind}")
    return json.dumps(review).encode()


def probe_body(probe: Probe) -> bytes:
    """The bytes a probe sends: a sample review or pod list with its patch applied, raw
    text (a JSON string literal, escapes and all), hex bytes, or a generated body."""
    kind, _, rest = probe.body.partition(":")
    if kind in ("review", "pods"):
        folder = "admission" if kind == "review" else "inventory"
        document = json.loads((FIXTURES / folder / rest).read_text())
        for pointer, value in probe.patch.items():
            _set(document, pointer, value)
        return json.dumps(document).encode("utf-8", "surrogatepass")
    if kind == "text":
        return json.loads(rest).encode("utf-8", "surrogatepass")
    if kind == "hex":
        return bytes.fromhex(rest)
    if kind == "gen":
        generator, _, count = rest.partition(":")
        return _generated(generator, int(count))
    raise ValueError(f"{probe.name}: unknown body {probe.body!r}")
