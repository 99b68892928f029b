"""Helpers for the image identity tests: a real registry (Debian's ``docker-registry``,
the CNCF distribution server) on a free loopback port, images pushed to it over the
OCI distribution API by plain HTTP calls, and scans ingested like webhooks."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import bcrypt
import pytest
import requests

from findings.models import Scan
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store
from tests.engine.factories import payload, vuln
from tests.waiting import wait_for

REGISTRY_BIN = os.environ.get("DOCKER_REGISTRY_BIN") or shutil.which("docker-registry") or ""
NO_REGISTRY = (
    "Debian's docker-registry is not installed: the tests that resolve tags at a real "
    "registry need it (make test installs it: deploy/test-tools.sh)"
)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def require_registry_binary() -> str:
    if not REGISTRY_BIN:
        pytest.fail(NO_REGISTRY)
    return REGISTRY_BIN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Registry:
    """A distribution registry process with its storage in ``root``; optionally
    behind htpasswd basic auth (``user``/``password``)."""

    def __init__(self, root: Path, *, user: str = "", password: str = "") -> None:
        self.root, self.user, self.password = root, user, password
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def auth(self) -> tuple[str, str] | None:
        return (self.user, self.password) if self.user else None

    def _config(self) -> Path:
        auth = ""
        if self.user:
            hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(f"{self.user}:{hashed}\n")
            auth = f"auth:\n  htpasswd:\n    realm: remediator-test\n    path: {htpasswd}\n"
        config = self.root / "config.yml"
        config.write_text(
            "version: 0.1\n"
            "log:\n  level: error\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'data'}\n"
            f"http:\n  addr: {self.host}\n  secret: remediator-test-secret\n" + auth
        )
        return config

    def start(self) -> Registry:
        binary = require_registry_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        log = (self.root / "registry.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "serve", str(self._config())], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        assert wait_for(self._answers, 20), (self.root / "registry.log").read_text()[-2000:]
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/v2/", timeout=1).status_code in (200, 401)
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def _blob(self, repository: str, data: bytes) -> str:
        digest = sha256(data)
        started = requests.post(
            f"{self.url}/v2/{repository}/blobs/uploads/", auth=self.auth, timeout=10
        )
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        if location.startswith("/"):
            location = self.url + location
        separator = "&" if "?" in location else "?"
        done = requests.put(
            f"{location}{separator}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            auth=self.auth,
            timeout=10,
        )
        assert done.status_code == 201, done.text
        return digest

    def push(self, repository: str, tag: str, layer: bytes) -> str:
        """A one-layer OCI image of ``layer`` pushed as ``repository:tag``; its digest."""
        config = json.dumps(
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": OCI_CONFIG,
                    "digest": self._blob(repository, config),
                    "size": len(config),
                },
                "layers": [
                    {
                        "mediaType": OCI_LAYER,
                        "digest": self._blob(repository, layer),
                        "size": len(layer),
                    }
                ],
            }
        ).encode()
        answer = requests.put(
            f"{self.url}/v2/{repository}/manifests/{tag}",
            data=manifest,
            headers={"Content-Type": OCI_MANIFEST},
            auth=self.auth,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        assert answer.headers["Docker-Content-Digest"] == sha256(manifest)
        return sha256(manifest)


def scan(image: str, tag: str, digest: str, *cves: str, scanner: str = "") -> Scan:
    """Ingest a generic-format report of ``image:tag@digest`` listing these critical
    CVEs (none: a clean scan), as the webhook would."""
    findings = [vuln(cve, f"pkg{n}") for n, cve in enumerate(cves)]
    body = payload(*findings, image=image, tag=tag, scanner=scanner)
    body["digest"] = digest
    delivery, _ = delivery_store(
        source="generic", body=json.dumps(body).encode(), content_type="application/json"
    )
    return delivery_process(delivery=delivery).scan


def admission_ready(settings, monkeypatch, *, unknown: str = "deny") -> None:
    """The admission webhook as the admission tests set it up: audit written at once,
    the test token, no verdict cached from another test."""
    from django.core.cache import cache

    from remediator.engine.admission.cache import admission_memory_clear
    from tests.admission.conftest import TOKEN

    settings.ADMISSION_WRITE_DELAY_SECONDS = 0
    settings.ADMISSION_UNKNOWN_IMAGES = unknown
    settings.ADMISSION_UNVERIFIED_TAGS = "unknown"
    settings.ADMISSION_BREAK_GLASS = True
    settings.ADMISSION_ALLOW_UNAUTHENTICATED = False
    settings.BASE_URL = "https://remediator.example.com"
    monkeypatch.setenv("ADMISSION_TOKEN", TOKEN)
    admission_memory_clear()
    cache.clear()


def pod_review(*images: str, namespace: str = "default") -> dict:
    """An AdmissionReview (v1) creating a Pod with one container per image."""
    from tests.admission.conftest import sample

    body = sample("pod_alpine_3_10.json")
    body["apiVersion"] = "admission.k8s.io/v1"
    body["request"]["uid"] = hashlib.sha256(repr(images).encode()).hexdigest()[:32]
    body["request"]["namespace"] = namespace
    spec = body["request"]["object"]["spec"]
    spec["containers"] = [{"name": f"c{n}", "image": image} for n, image in enumerate(images)]
    return body


def judged(client, *images: str, namespace: str = "default") -> tuple[dict, list[dict]]:
    """(the AdmissionReview answer, the audit summary of each image) for a pod."""
    from remediator.engine.models import AuditEvent
    from tests.admission.conftest import answer_of, post_review

    body = pod_review(*images, namespace=namespace)
    answer = answer_of(post_review(client, body))
    event = AuditEvent.objects.filter(kind="admission", object_id=body["request"]["uid"]).first()
    assert event is not None
    return answer, event.data["images"]
