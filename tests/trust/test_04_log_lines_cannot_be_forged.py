"""Class 4, the log-line half: a newline (or CR, NEL, U+2028, an ANSI escape) in a
break-glass reason, an image or package name or an outside API's error message cannot
forge or split a log line, in any process: the web (Django's LOGGING), gunicorn's access
and error logs, a Celery worker and beat, in the plain and the JSON formats."""

from __future__ import annotations

import json
import logging
import re
import signal
import subprocess
import sys
from itertools import takewhile

import pytest

from remediator.core.logging import JsonFormatter
from remediator.core.logsafe import CONTINUATION, OneLineFilter
from remediator.core.redact import RedactSecretsFilter
from tests.webhooks.test_gunicorn_logs import _send, gunicorn  # noqa: F401 - the fixture

from ._text_support import ROOT, run_worker, worker_env

FORGED = "\n2026-01-01 00:00:00,000 ERROR remediator forged: approved by security"
BREAKS = ["\n", "\r", "\r\n", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c"]
RECORD_START = re.compile(r"^(\d{4}-\d\d-\d\d|\[\d{4}-|\{|\d+\.\d+\.\d+\.\d+ )")
"""How a record's first line starts: plain and gunicorn formats, JSON, the access log."""


def formatted(record: logging.LogRecord, formatter: logging.Formatter | None = None) -> str:
    handler = logging.StreamHandler()
    for kind in (RedactSecretsFilter, OneLineFilter):
        handler.addFilter(kind())
    handler.setFormatter(formatter or logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    assert handler.filter(record)
    return handler.format(record)


def record(msg: str, *args, exc: BaseException | None = None, **extra) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    made = logging.LogRecord("remediator.engine", logging.WARNING, __file__, 1, msg, args, info)
    made.__dict__.update(extra)
    return made


def assert_one_record(text: str) -> None:
    """``text`` holds one record: one line, or a first line and indented continuations."""
    _first, *rest = text.split("\n")
    assert all(line.startswith(CONTINUATION) for line in rest), text
    assert not any(ch in text for ch in "\r\x85\u2028\u2029\x0b\x0c\x1c\x1b"), text


@pytest.mark.parametrize("brk", BREAKS)
def test_a_line_break_in_an_argument_stays_in_its_record(brk):
    reason = f"urgent{FORGED.replace(chr(10), brk)}"
    line = formatted(record("admission: break-glass by %s: %s", "alice", reason))

    assert "\n" not in line and brk not in line
    assert line.endswith("ERROR remediator forged: approved by security")
    assert "urgent\\" in line


def test_ansi_escapes_and_bidi_overrides_are_written_as_escapes():
    line = formatted(record("image %s", "shop/api\x1b[2J\x1b[1;31mOK\u202egnp.exe"))

    assert "\x1b" not in line and "\u202e" not in line
    assert "shop/api\\x1b[2J\\x1b[1;31mOK\\u202egnp.exe" in line


def test_an_exception_message_cannot_start_a_line_of_its_own():
    try:
        raise RuntimeError(f"GitHub answered 422: reference invalid{FORGED}")
    except RuntimeError as exc:
        text = formatted(record("action %s: push failed", 7, exc=exc))

    assert_one_record(text)
    assert "    2026-01-01 00:00:00,000 ERROR remediator forged" in text


def test_extra_fields_and_gunicorn_atoms_are_escaped():
    made = record("scan %s", 3, package="openssl\nFROM x")
    formatted(made)
    assert made.package == "openssl\\nFROM x"

    atoms = {"r": "GET /x\n[ERROR] forged HTTP/1.1", "a": "curl\x85x", "s": "200"}
    access = logging.LogRecord("gunicorn.access", logging.INFO, "", 0, "%(r)s %(a)s", (), None)
    access.args = atoms
    assert formatted(access, logging.Formatter("%(message)s")) == (
        "GET /x\\n[ERROR] forged HTTP/1.1 curl\\x85x"
    )


def test_the_json_format_is_one_object_a_line_with_no_raw_separator():
    try:
        raise ValueError(f"bad{FORGED}\u2028\x85")
    except ValueError as exc:
        text = formatted(record("reason %s", f"r{FORGED}\u2029", exc=exc), JsonFormatter())

    assert "\n" not in text and not any(ch in text for ch in "\u2028\u2029\x85")
    data = json.loads(text)
    assert "forged" in data["message"] and "\\u2029" in data["message"]
    assert data["exception"].startswith("Traceback") and "forged" in data["exception"]


# --- each process, through its real configuration


def _python(code: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = worker_env(tmp_path, **env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


WEB = """
import django, logging
django.setup()  # the web processes' LOGGING
log = logging.getLogger("remediator.engine.admission")
log.warning("admission: break-glass by %s for %s: %s", "alice", "shop/api", {reason!r})
try:
    raise RuntimeError({reason!r})
except RuntimeError:
    log.exception("provider failed")
"""
BEAT = """
import logging
from celery.apps.beat import Beat
from remediator.celery import app
Beat(app=app, loglevel="INFO", redirect_stdouts=False).setup_logging()  # as `celery beat`
log = logging.getLogger("celery.beat")
log.warning("schedule entry %s: %s", "sweep", {reason!r})
try:
    raise RuntimeError({reason!r})
except RuntimeError:
    log.exception("task failed")
"""


@pytest.mark.parametrize("log_format", ["plain", "json"])
@pytest.mark.parametrize("process", ["web", "beat"], ids=["web-django-logging", "celery-beat"])
def test_a_forged_line_in_a_web_or_beat_process_log_stays_one_record(process, log_format, tmp_path):
    reason = f"urgent{FORGED}\r\n[ERROR] forged\u2028x"
    code = (WEB if process == "web" else BEAT).format(reason=reason)
    run = _python(code, tmp_path, LOG_FORMAT=log_format)

    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if line]
    starts = [line for line in lines if RECORD_START.match(line)]
    assert len(starts) == 2, run.stderr  # the warning and the exception: nothing forged
    assert_one_record("\n".join(lines[lines.index(starts[1]) :]))
    assert "\n".join(lines[: lines.index(starts[1])]) == starts[0]  # the warning: one line
    if log_format == "json":
        assert [json.loads(line)["level"] for line in lines] == ["WARNING", "ERROR"]


def test_a_real_celery_worker_keeps_each_record_on_its_line(tmp_path):
    lines = run_worker(
        tmp_path,
        worker_env(tmp_path, LOG_FORMAT="plain"),
        ("https://ci.example/job/1", f"rate limited{FORGED}\x1b[2K", "tok-0123456789"),
        until="raised unexpected",
    )

    text = "\n".join(lines)
    assert "provider answered: rate limited\\n2026-01-01" in text, text
    assert not [line for line in lines if line.startswith("2026-01-01 00:00:00,000")], text
    assert "\x1b" not in text
    raised = next(i for i, line in enumerate(lines) if "raised unexpected" in line)
    traceback = list(takewhile(lambda line: line.startswith(CONTINUATION), lines[raised + 1 :]))
    assert traceback[0] == CONTINUATION + "Traceback (most recent call last):", text
    forged = CONTINUATION + FORGED.strip() + "\\x1b[2K"
    assert forged in traceback, text  # the exception's own words: indented, escaped


def test_a_real_gunicorn_writes_one_access_line_per_request_and_escapes_django_logs(
    gunicorn,  # noqa: F811 - the fixture imported above
):
    port, process, logs = gunicorn
    targets = [
        ("GET", "/nosuch%0A2026-01-01%2000:00:00,000%20ERROR%20forged"),
        ("POST", "/api/v1/webhooks/tr%0Aivy/x/"),  # redaction decodes the path it hides
        ("POST", "/api/v1/webhooks/trivy%E2%80%A8x/"),
        ("GET", "/api/v1/findings/?image=a%0D%0A2026-01-01%20ERROR%20forged"),
    ]

    for method, target in targets:
        _send(port, method, target)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)

    access = logs["access"].read_text().split("\n")[:-1]
    assert len(access) == len(targets) + 1, access  # + the health check
    assert all(RECORD_START.match(line) for line in access), access
    assert "tr\\nivy" in "\n".join(access)
    for name in ("error", "stderr"):
        text = logs[name].read_text()
        lines = [line for line in text.split("\n") if line]
        assert all(RECORD_START.match(line) or line.startswith(" ") for line in lines), text
        assert "\u2028" not in text and "\r" not in text
