"""A real gunicorn, started as the Procfile starts it, with webhook secrets sent in the
URL path (raw, percent-encoded in part or in full, either case of hex, twice encoded,
odd slashes) and in query strings: no log it writes holds a secret, however spelled."""

from __future__ import annotations

import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote, unquote_plus

import pytest

from ..waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Tr1vy-S3cret_ZQ"
WRONG = "Wr0ng-Guess_KX"
METRICS = "M3trics-T0ken_QV"
ADMISSION = "Adm1ssion-T0ken_JW"
BODY = (ROOT / "tests/fixtures/trivy/trivy_docs_reporting_alpine_latest.json").read_bytes()


def encoded(char: str, lower: bool = False) -> str:
    text = f"%{ord(char):02X}"
    return text.lower() if lower else text


def path_spellings(secret: str) -> list[str]:
    """The secret as the sender may spell it in the path segment."""
    full = "".join(encoded(c) for c in secret)
    return [
        secret,
        encoded(secret[0]) + secret[1:],  # one character, first
        secret[:5] + encoded(secret[5]) + secret[6:],  # one character, middle
        secret[:-1] + encoded(secret[-1], lower=True),  # one character, last, lower hex
        full,
        full.lower(),
        "".join(encoded(c, lower=i % 2 == 1) for i, c in enumerate(secret)),  # mixed case
        quote(full, safe=""),  # twice encoded
    ]


def requests_to_send() -> list[tuple[str, str]]:
    """(method, raw request target) pairs."""
    targets = []
    for secret in (SECRET, WRONG):
        for spelled in path_spellings(secret):
            targets += [
                ("POST", f"/api/v1/webhooks/trivy/{spelled}/"),
                ("POST", f"/api/v1/webhooks/trivy/{spelled}"),
                ("POST", f"/api/v1/webhooks/trivy%2F{spelled}/"),
                ("POST", f"/api/v1/%77ebhooks/trivy/{spelled}/"),
                ("POST", f"/api/v1//webhooks/trivy/./{spelled}/"),
                ("POST", f"/api/v1/webhooks/nosuch/{spelled}/"),
                ("GET", f"/api/v1/webhooks/trivy/{spelled}/?image=alpine"),
            ]
        names = ["secret", "token", "%73ecret", "Webhook-Secret"]
        for name in names + (["image"] if secret == SECRET else []):
            for spelled in (secret, "".join(encoded(c) for c in secret)):
                targets.append(("POST", f"/api/v1/webhooks/trivy/?{name}={spelled}"))
    return targets


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_command(access_log: Path, error_log: Path) -> str:
    """The Procfile's web line, with the access and error logs sent to files."""
    [web] = [
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    ]
    logs = f" --access-logfile {shlex.quote(str(access_log))} --error-logfile {error_log}"
    return web.removeprefix("web:").strip() + logs


def leaks(text: str, secrets: list[str], sent: list[str]) -> list[str]:
    """Every secret (or exact spelling sent) found in ``text`` or in its decoded forms."""
    forms = [text]
    for _ in range(3):
        forms += [unquote(forms[-1]), unquote_plus(forms[-1])]
    found = []
    for form in forms:
        found += [s for s in secrets if s.lower() in form.lower()]
        found += [s for s in sent if s in form]
    return found


@pytest.fixture
def gunicorn(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBHOOK_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    port = free_port()
    env |= {
        "DATA_DIR": str(tmp_path / "var"),
        "WEBHOOK_SECRET_TRIVY": SECRET,
        "METRICS_TOKEN": METRICS,
        "ADMISSION_TOKEN": ADMISSION,
        "BIND": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "LOG_LEVEL": "DEBUG",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0", "--noinput"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "createcachetable"], cwd=ROOT, env=env, check=True)
    logs = {name: tmp_path / f"{name}.log" for name in ("access", "error", "stdout", "stderr")}
    with logs["stdout"].open("wb") as out, logs["stderr"].open("wb") as err:
        process = subprocess.Popen(
            ["bash", "-c", "exec " + web_command(logs["access"], logs["error"])],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    try:
        assert wait_for(lambda: _answers(port), seconds=60), logs["error"].read_text()
        yield port, process, logs
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        return _send(port, "GET", "/healthz")[0] == 200
    except OSError:
        return False


def _send(port: int, method: str, target: str) -> tuple[int, bytes]:
    """Send ``target`` exactly as spelled (http.client does not re-quote it)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = BODY if method == "POST" else None
        headers = {"Content-Type": "application/json"} if body else {}
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_no_log_of_a_real_gunicorn_holds_a_secret(gunicorn):
    port, process, logs = gunicorn
    sent = requests_to_send()

    statuses = [_send(port, method, target)[0] for method, target in sent]
    process.send_signal(signal.SIGTERM)  # flush and close every log
    process.wait(timeout=30)

    # The right secret is accepted raw (202) and with a character encoded (200: a repeat).
    assert [statuses[i] for i in (0, 7, 14, 21)] == [202, 200, 200, 200]
    assert {400, 401, 404, 405} <= set(statuses)
    access = logs["access"].read_text()
    assert len(re.findall(r'"(?:GET|POST) ', access)) == len(sent) + 1  # + the health check
    assert access.count("<secret>") >= len(sent) - 4
    spellings = [target.rsplit("/", 2)[-2] for _, target in sent] + [
        target.rpartition("=")[2] for _, target in sent if "?" in target
    ]
    spellings = [s for s in spellings if len(s) >= 8 and "webhooks" not in s]
    for name, path in logs.items():
        text = path.read_text(errors="replace")
        assert not leaks(text, [SECRET, WRONG], spellings), (
            name,
            leaks(text, [SECRET, WRONG], spellings),
        )
    assert "django.request" in logs["stderr"].read_text()  # Django's log was there to grep


def token_requests() -> list[tuple[str, str]]:
    """METRICS_TOKEN and ADMISSION_TOKEN where a scraper or a webhook configuration puts
    them by mistake: query strings under any name, and path segments."""
    targets = []
    for token in (METRICS, ADMISSION):
        for spelled in (token, "".join(encoded(c) for c in token)):
            for name in ("token", "access_token", "t", "bearer", "X-Amz-Signature", "k"):
                targets += [
                    ("GET", f"/metrics?{name}={spelled}"),
                    ("POST", f"/api/v1/admission/validate?{name}={spelled}"),
                ]
            targets += [
                ("GET", f"/metrics/{spelled}"),
                ("GET", f"/metrics{encoded('/')}{spelled}"),
                ("POST", f"/api/v1/admission/validate/{spelled}"),
                ("POST", f"/api/v1/admission/validate/{spelled}?dryRun=true"),
                ("GET", f"/api/v1/findings/?image={spelled}"),
            ]
    return targets


def test_metrics_and_admission_tokens_in_queries_and_paths_reach_no_log(gunicorn):
    port, process, logs = gunicorn
    sent = token_requests()

    statuses = [_send(port, method, target)[0] for method, target in sent]
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)

    assert {401, 404} <= set(statuses)
    access = logs["access"].read_text()
    assert len(re.findall(r'"(?:GET|POST) ', access)) == len(sent) + 1
    assert access.count("<secret>") >= len(sent)
    spellings = [target.split("=", 1)[1] for _, target in sent if "=" in target]
    for name, path in logs.items():
        text = path.read_text(errors="replace")
        found = leaks(text, [METRICS, ADMISSION], [s for s in spellings if len(s) >= 8])
        assert not found, (name, found)
