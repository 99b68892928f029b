"""Production settings pass ``manage.py check --deploy``; the local default stays plain http."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {  # what docs/security-model.md tells an operator to set
    "DEBUG": "false",
    "BASE_URL": "https://remediator.example.com",
    "ALLOWED_HOSTS": "remediator.example.com",
    "TRUST_PROXY_HEADERS": "true",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}
SHOWN = [
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "AXES_FAILURE_LIMIT", "BASE_URL",
]  # fmt: skip


def manage(tmp_path: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "SESSION_", "CSRF_", "HTTPS", "TRUST_", "LOGIN_"))
        and key not in ("DEBUG", "BASE_URL", "ALLOWED_HOSTS", "SECRET_KEY", "DATABASE_URL", "PORT")
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"  # set by the browser tests in this process
    }
    env |= {"DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "remediator.settings"}
    env |= environment
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_in(tmp_path: Path, **environment: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {SHOWN!r}}}))"
    )
    result = manage(tmp_path, "shell", "-c", code, **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage(
        tmp_path,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_secure(tmp_path):
    found = settings_in(tmp_path, SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION)
    assert found["SESSION_COOKIE_SECURE"] and found["CSRF_COOKIE_SECURE"]
    assert found["SECURE_SSL_REDIRECT"] and found["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["CSRF_TRUSTED_ORIGINS"] == ["https://remediator.example.com"]


def test_the_local_default_stays_plain_http(tmp_path):
    """`make run` serves http://127.0.0.1: secure-only cookies or a redirect would break it."""
    found = settings_in(tmp_path)
    assert not found["SESSION_COOKIE_SECURE"] and not found["CSRF_COOKIE_SECURE"]
    assert not found["SECURE_SSL_REDIRECT"] and found["SECURE_HSTS_SECONDS"] == 0
    assert found["SECURE_PROXY_SSL_HEADER"] is None  # X-Forwarded-Proto not trusted
    assert found["AXES_FAILURE_LIMIT"] == 5


def test_base_url_defaults_to_what_make_run_serves(tmp_path):
    assert settings_in(tmp_path)["BASE_URL"] == "http://127.0.0.1:8000"
    assert settings_in(tmp_path, PORT="9123")["BASE_URL"] == "http://127.0.0.1:9123"
    chosen = settings_in(tmp_path, PORT="9123", BASE_URL="https://r.example.com/")
    assert chosen["BASE_URL"] == "https://r.example.com"


def test_make_run_gives_every_process_the_same_base_url():
    """honcho gives each Procfile process its own PORT (web 8000, worker 8100...): the
    Makefile exports BASE_URL so the worker's links point at the web process."""
    shown = {}
    for port, bind in (("8000", "127.0.0.1"), ("9123", "0.0.0.0")):
        environment = {k: v for k, v in os.environ.items() if k not in ("BASE_URL", "PORT")}
        result = subprocess.run(
            ["make", "-s", "--eval", "base-url: ; @echo $(BASE_URL)", "base-url"],
            cwd=ROOT,
            env=environment | {"PORT": port, "BIND": bind},
            capture_output=True,
            text=True,
            check=True,
        )
        shown[port] = result.stdout.strip()
    assert shown == {"8000": "http://127.0.0.1:8000", "9123": "http://127.0.0.1:9123"}
