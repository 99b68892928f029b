"""INGEST_MAX_BYTES is the largest report body a webhook takes; WEBHOOK_MAX_BYTES, its older
name, is still read when it is not set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from findings.models import Delivery

ROOT = Path(__file__).resolve().parents[2]
SHOW = "import django; django.setup(); from django.conf import settings; print(settings.{})"


def setting_with(tmp_path: Path, name: str, **environment: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("INGEST_MAX_BYTES", "WEBHOOK_MAX_BYTES", "DATABASE_URL")
    }
    env |= {"DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "remediator.settings"}
    run = subprocess.run(
        [sys.executable, "-c", SHOW.format(name)],
        cwd=ROOT,
        env=env | environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "environment, limit",
    [
        ({}, 64 * 1024 * 1024),
        ({"WEBHOOK_MAX_BYTES": "1000"}, 1000),
        ({"INGEST_MAX_BYTES": "2000"}, 2000),
        ({"INGEST_MAX_BYTES": "2000", "WEBHOOK_MAX_BYTES": "1000"}, 2000),
    ],
)
def test_both_names_set_the_limit_and_the_new_one_wins(tmp_path, environment, limit):
    assert setting_with(tmp_path, "INGEST_MAX_BYTES", **environment) == str(limit)


@pytest.mark.django_db
def test_a_body_past_the_limit_is_413_naming_the_setting(post, settings):
    settings.INGEST_MAX_BYTES = 100

    response = post("/api/v1/webhooks/trivy/", b"{" + b" " * 200 + b"}")

    assert response.status_code == 413 and response.json()["error"] == "too_large"
    assert "(INGEST_MAX_BYTES)" in response.json()["detail"]
    assert not Delivery.objects.exists()
