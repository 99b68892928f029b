"""The README's end-to-end demo, examples/story.sh, run green against a real instance.

The processes are the Procfile's, as `make run` starts them (gunicorn, a Celery worker,
beat), on a fresh DATA_DIR: the embedded SQLite database and broker a laptop gets,
whatever DATABASE_URL / CELERY_BROKER_URL the suite itself runs with. GitLab and Aqua
are examples/fake_ci.py. The story's steps are checked one by one (each PASS line); how
long it took is printed, never asserted (speed belongs in bench/).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PYTHON = Path(sys.executable)
STEPS = 27
"""The checks story.sh makes: 12 per rebuilt image (two images), 3 for the 50 webhooks."""
SECRETS = {
    "WEBHOOK_SECRET": "storysecret",
    "REMEDIATOR_SECRET_GITLAB_TRIGGER": "glptt-story",
    "REMEDIATOR_SECRET_GITLAB_API": "glpat-story",
}
PROCESSES = ("web", "worker", "beat")

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_commands() -> dict[str, str]:
    """The Procfile's commands by process name (comment lines left out)."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    pairs = (line.split(":", 1) for line in lines if line and not line.startswith("#"))
    return {name.strip(): command.strip() for name, command in pairs}


def fake_ci(log: Path):
    """examples/fake_ci.py serving on a free port in this process."""
    spec = importlib.util.spec_from_file_location("fake_ci", EXAMPLES / "fake_ci.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.serve(
        port=0,
        trigger_token=SECRETS["REMEDIATOR_SECRET_GITLAB_TRIGGER"],
        api_token=SECRETS["REMEDIATOR_SECRET_GITLAB_API"],
        log_path=str(log),
    )


def wait_until(what: str, check, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if check():
                return
        time.sleep(0.2)
    raise TimeoutError(f"{what}: not within {seconds:.0f} s")


def healthy(url: str) -> bool:
    with urlopen(url, timeout=2) as answer:
        return answer.status == 200


@contextlib.contextmanager
def running(commands: dict[str, str], env: dict, logs: Path) -> Iterator[dict]:
    """The named Procfile processes, each in its own session; stopped (the whole group)
    on the way out."""
    started: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            with open(logs / f"{name}.log", "wb") as out:
                started[name] = subprocess.Popen(
                    ["bash", "-c", f"exec {command}"],
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        yield started
    finally:
        for process in started.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in started.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def log_tails(logs: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-30:])
        for path in sorted(logs.glob("*.log"))
    )


def test_story_runs_green_against_a_real_instance(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    fake_log = tmp_path / "fake_ci.jsonl"
    fake = fake_ci(fake_log)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake_url = f"http://127.0.0.1:{fake.server_port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "CELERY_BROKER_URL") and not key.startswith("PYTEST")
    }
    env |= SECRETS | {
        "DATA_DIR": str(tmp_path / "var"),
        "PATH": f"{PYTHON.parent}{os.pathsep}{env.get('PATH', '')}",
        "BIND": "127.0.0.1",
        "PORT": str(port),
        "BASE_URL": base,
        "AQUA_URL": fake_url,
        "AQUA_USERNAME": "story",
        "AQUA_PASSWORD": "story",
        "ACTION_POLL_INTERVAL": "1",
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
    }
    started = time.monotonic()
    try:
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput"],
            cwd=ROOT, env=env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        setup = subprocess.run(
            [EXAMPLES / "story-setup.sh"],
            cwd=ROOT, env=env | {"FAKE_URL": fake_url, "PY": str(PYTHON)},
            check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        tokens = dict(re.findall(r"^export (\w+_TOKEN)=(\w+)$", setup.stdout, re.M))
        assert set(tokens) == {"ALICE_TOKEN", "BOB_TOKEN", "VICTOR_TOKEN"}, setup.stdout

        commands = {name: procfile_commands()[name] for name in PROCESSES}
        with running(commands, env, logs):
            wait_until("the web process", lambda: healthy(f"{base}/healthz"), 60)
            worker_log = logs / "worker.log"
            wait_until("the worker", lambda: b" ready." in worker_log.read_bytes(), 60)
            ready = time.monotonic()
            story = subprocess.run(
                [EXAMPLES / "story.sh"],
                cwd=ROOT,
                env=env | tokens | {"BASE": base, "FAKE_LOG": str(fake_log), "WAIT": "30"},
                capture_output=True, text=True, timeout=240,
            )  # fmt: skip
            done = time.monotonic()
            tails = log_tails(logs)
    finally:
        fake.shutdown()

    print(story.stdout)
    print(
        f"story.sh: {done - ready:.1f} s against the running instance "
        f"({ready - started:.1f} s to migrate, set up and start it)"
    )
    lines = story.stdout.splitlines()
    failed = [line for line in lines if line.startswith("FAIL")]
    passed = [line for line in lines if line.startswith("PASS")]
    context = f"{story.stdout}\n{story.stderr}\n{tails}"
    assert failed == [], context
    assert len(passed) == STEPS and story.returncode == 0, context
