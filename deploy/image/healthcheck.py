#!/opt/venv/bin/python
"""The image's HEALTHCHECK: asks the role this container runs whether it is alive.

The role is the entrypoint's first argument, read from PID 1's command line (tini):
web and admission answer ``GET /healthz`` on their port (HTTPS when TLS_CERT_FILE is
set; the certificate names the Service, not 127.0.0.1, so it is not verified here);
a worker answers a Celery ping addressed to its own node; beat writes its schedule
store each time it sends a task (the delivery sweep and spool replay run every 15 s),
so a store untouched for ten minutes means a stuck beat. migrate, check and manage are
one-shot: always healthy.
Exit 0 healthy, 1 not, with one line saying why.
"""

import glob
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request

ROLES = ("web", "admission", "worker", "beat", "migrate", "check", "manage")


def role() -> str:
    with open("/proc/1/cmdline", "rb") as cmdline:
        words = [w.decode(errors="replace") for w in cmdline.read().split(b"\0") if w]
    return next((w for w in words if w in ROLES), "web")


def web() -> str:
    scheme = "https" if os.environ.get("TLS_CERT_FILE") else "http"
    url = f"{scheme}://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz"
    context = ssl._create_unverified_context() if scheme == "https" else None
    with urllib.request.urlopen(url, timeout=5, context=context) as answer:
        return "" if answer.status == 200 else f"/healthz answered {answer.status}"


def worker() -> str:
    node = f"celery@{socket.gethostname()}"
    done = subprocess.run(
        [
            "/opt/venv/bin/celery",
            "-A",
            "remediator.celery",
            "inspect",
            "ping",
            "--destination",
            node,
            "--timeout",
            "5",
        ],
        cwd="/app",
        capture_output=True,
        timeout=9,
        check=False,
    )
    return "" if done.returncode == 0 else f"{node} did not answer a ping"


def beat() -> str:
    # shelve picks the dbm module Python has: one file, or .dat/.dir/.bak beside each other
    schedule = os.path.join(
        os.environ.get("DATA_DIR", "/var/lib/remediator"), "celerybeat-schedule"
    )
    written = [os.stat(path).st_mtime for path in glob.glob(glob.escape(schedule) + "*")]
    if not written:
        return f"no schedule store at {schedule}"
    age = time.time() - max(written)
    return "" if age < 600 else f"schedule store not written for {age:.0f} s"


def main() -> int:
    checks = {"web": web, "admission": web, "worker": worker, "beat": beat}
    check = checks.get(role())
    try:
        problem = check() if check else ""
    except Exception as exc:  # any failure to answer is "unhealthy"; say which kind
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        print(problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
