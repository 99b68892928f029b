"""Class 10: no secret reaches a log line. A Celery worker and beat redact as the web does
(a secret-bearing URL, an exception carrying a token); METRICS_TOKEN, ADMISSION_TOKEN and
every other configured secret are hidden wherever they appear, query strings included
(a real gunicorn: tests/webhooks/test_gunicorn_logs.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from remediator.core.redact import REDACTED, is_secret_param, known_secrets, redact_text

from ._text_support import ROOT, run_worker, worker_env

WEBHOOK = "Wh00k-S3cret_PX"
GITHUB = "ghp_Tr1stT0kenForFixPRs0123456789"
METRICS = "M3trics-T0ken_QV"
ADMISSION = "Adm1ssion-T0ken_JW"
AQUA = "Aqu4-Passw0rd_LM"
SECRETS = (WEBHOOK, GITHUB, METRICS, ADMISSION, AQUA)


def secret_env(tmp_path, **extra: str) -> dict[str, str]:
    return worker_env(
        tmp_path,
        WEBHOOK_SECRET=WEBHOOK,
        REMEDIATOR_SECRET_GITHUB_TOKEN=GITHUB,
        METRICS_TOKEN=METRICS,
        ADMISSION_TOKEN=ADMISSION,
        AQUA_PASSWORD=AQUA,
        **extra,
    )


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_a_real_worker_redacts_urls_and_exceptions_carrying_tokens(tmp_path, log_format):
    lines = run_worker(
        tmp_path,
        secret_env(tmp_path, LOG_FORMAT=log_format),
        (
            f"https://ci.example/job/build?token={METRICS}&job=api",
            f"Bad credentials for {AQUA} (metrics {METRICS}, admission {ADMISSION})",
            GITHUB,
        ),
        until="raised unexpected",
    )

    text = "\n".join(lines)
    assert "raised unexpected" in text, text
    assert not [s for s in SECRETS if s in text], text
    assert text.count(REDACTED) >= 5
    if log_format == "json":
        failed = [json.loads(line) for line in lines if "raised unexpected" in line]
        assert failed and "OutsideError" in failed[0]["exception"]
        assert REDACTED in failed[0]["exception"]


BEAT = f"""
import logging
from celery.apps.beat import Beat
from remediator.celery import app
Beat(app=app, loglevel="INFO", redirect_stdouts=False).setup_logging()  # as `celery beat`
log = logging.getLogger("celery.beat")
log.warning("sending due task to redis://:{METRICS}@broker:6379/0")
log.warning("POST https://remediator/api/v1/webhooks/trivy/{WEBHOOK}/ answered 401")
try:
    raise RuntimeError("GitHub: Bad credentials for token {GITHUB} ({AQUA})")
except RuntimeError:
    log.exception("Message Error")
"""


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_beat_redacts_as_the_web_does(tmp_path, log_format):
    run = subprocess.run(
        [sys.executable, "-c", BEAT],
        cwd=ROOT,
        env=secret_env(tmp_path, LOG_FORMAT=log_format),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    assert "Message Error" in run.stderr and "redis://:<secret>@broker" in run.stderr
    assert not [s for s in SECRETS if s in run.stderr + run.stdout], run.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("METRICS_TOKEN", METRICS),
        ("ADMISSION_TOKEN", ADMISSION),
        ("AQUA_PASSWORD", AQUA),
        ("AQUA_API_KEY", "aqua-api-key-1"),
        ("AQUA_API_SECRET", "aqua-api-secret-1"),
        ("HARBOR_PASSWORD", "harbor-pass-1"),
        ("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/xyz"),
        ("SECRET_KEY", "django-insecure-0123456789"),
        ("REMEDIATOR_SECRET_GITLAB", "glpat-0123456789"),
        ("WEBHOOK_SECRET_AUTO", "auto-secret-1"),
    ],
)
def test_every_configured_secret_is_hidden_wherever_it_appears(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    for line in (
        f"GET /metrics?t={value} HTTP/1.1",
        f"GET /metrics/{value} 404",
        f"provider said: {value}",
    ):
        assert value not in redact_text(line), line


def test_secrets_in_files_and_secrets_dir_are_known(monkeypatch, tmp_path):
    (tmp_path / "token").write_text("from-a-file-0001\n")
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "GITHUB_DEPLOY").write_text("from-secrets-dir-0002")
    monkeypatch.setenv("METRICS_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("SECRETS_DIR", str(secrets_dir))

    assert {"from-a-file-0001", "from-secrets-dir-0002"} <= set(known_secrets())
    assert redact_text("x from-secrets-dir-0002 y") == f"x {REDACTED} y"


@pytest.mark.parametrize(
    "name",
    ["token", "secret", "key", "password", "signature", "sig", "access_key", "X-Amz-Signature",
     "private-key", "client_secret", "api-key", "x-auth", "jwt", "credential"],
)  # fmt: skip
def test_secret_query_parameter_names_are_recognised(name):
    assert is_secret_param(name)
    assert "VALUE" not in redact_text(f"GET /metrics?{name}=VALUE&page=2 HTTP/1.1")


@pytest.mark.parametrize("name", ["image", "page", "severity", "monkey", "keyword", "status"])
def test_ordinary_query_parameter_names_are_left_alone(name):
    assert not is_secret_param(name)


def test_a_url_password_is_hidden():
    line = "broker redis://:hunter2pw@10.0.0.1:6379/0 and postgres://app:s3cr3t@db/app down"
    assert redact_text(line) == (
        f"broker redis://:{REDACTED}@10.0.0.1:6379/0 and postgres://app:{REDACTED}@db/app down"
    )
