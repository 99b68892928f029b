"""Helpers for the fault classes (3, 10, 11): a service that accepts connections and never
answers, and a real gunicorn started from the Procfile's web line on a fresh database."""

from __future__ import annotations

import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from ..waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "faults-webhook-secret-0123"
ADMISSION_TOKEN = "faults-admission-token-0123456789"
REVIEW = (ROOT / "tests/fixtures/admission/pod_alpine_3_10.json").read_bytes()


class SilentListener:
    """A TCP listener on 127.0.0.1 that accepts every connection, reads what it is sent
    and never writes a byte: a broker or database that hangs instead of refusing."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(128)
        self.port = self._server.getsockname()[1]
        self._clients: list[socket.socket] = []
        self._accepted = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="silent-listener", daemon=True)

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return self._accepted

    def url(self, scheme: str, path: str = "") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                sockets = [self._server, *self._clients]
            readable, _, _ = select.select(sockets, [], [], 0.1)
            for sock in readable:
                if sock is self._server:
                    client, _ = self._server.accept()
                    with self._lock:
                        self._clients.append(client)
                        self._accepted += 1
                    continue
                try:
                    data = sock.recv(65536)  # swallow what the client sends; answer nothing
                except OSError:
                    data = b""
                if not data:  # the client gave up and closed
                    with self._lock:
                        self._clients.remove(sock)
                    sock.close()

    def __enter__(self) -> SilentListener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            for sock in [*self._clients, self._server]:
                sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(data_dir: Path, **extra: str) -> dict:
    """The environment of a production-like process on a fresh SQLite database in
    ``data_dir``: nothing inherited that names a database, broker, cache or secret."""
    prefixes = ("WEBHOOK_", "DATABASE_", "CELERY_", "CACHE_", "ADMISSION_", "BROKER_", "READYZ_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(
        DATA_DIR=str(data_dir),
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        ADMISSION_TOKEN=ADMISSION_TOKEN,
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class Web:
    url: str
    env: dict
    data_dir: Path
    log: Path
    process: subprocess.Popen

    def database(self) -> sqlite3.Connection:
        return sqlite3.connect(self.data_dir / "remediator.sqlite3", timeout=30)

    def post_webhook(self, body: bytes, timeout: float = 60) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/webhooks/trivy/",
            data=body,
            headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
            timeout=timeout,
        )

    def timed_post(self, body: bytes) -> tuple[float, requests.Response]:
        return timed(lambda: self.post_webhook(body))

    def session_get(self, path: str, timeout: float = 10) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=timeout)

    def review(self, timeout: float = 30) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/admission/validate",
            data=REVIEW,
            headers={
                "Authorization": f"Bearer {ADMISSION_TOKEN}",
                "Content-Type": "application/json",
            },
            timeout=timeout,
        )


def procfile_web() -> str:
    [web] = [
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    ]
    return web.removeprefix("web:").strip()


@contextmanager
def gunicorn(tmp_path: Path, *, migrate: bool = True, **extra: str) -> Iterator[Web]:
    """The Procfile's web line (real gunicorn, gthread workers) on a migrated SQLite
    database of its own; ``extra`` is its environment (e.g. CELERY_BROKER_URL, or a
    DATABASE_URL that is not migrated: ``migrate=False``)."""
    port = free_port()
    data_dir = tmp_path / "data"
    env = app_env(data_dir, BIND="127.0.0.1", PORT=str(port), **extra)
    if migrate:
        migrated = manage(env, "migrate", "-v0", "--noinput")
        assert migrated.returncode == 0, migrated.stderr[-2000:]
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {procfile_web()}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    web = Web(f"http://127.0.0.1:{port}", env, data_dir, log, process)
    try:
        up = wait_for(lambda: _healthy(web.url), seconds=60)
        assert up, log.read_text(errors="replace")[-3000:]
        yield web
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _healthy(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def timed(call) -> tuple[float, object]:
    """(seconds, result) of ``call()``."""
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result
