"""DATABASE_URL, CELERY_BROKER_URL and CACHE_URL carry passwords: each may come from a
file (a Docker or Kubernetes secret), as every other secret may."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], "
    "s.DATABASES['default']['PASSWORD'], s.CELERY_BROKER_URL, s.CACHES['default']['LOCATION']]))"
)


def test_each_service_url_is_read_from_its_file(tmp_path):
    files = {
        "DATABASE_URL": "postgres://remediator:pw-from-file@db:5432/remediator\n",
        "CELERY_BROKER_URL": "redis://:broker-pw@redis:6379/0\n",
        "CACHE_URL": "rediscache://:cache-pw@redis:6379/1\n",
    }
    env = {"PATH": os.environ["PATH"], "DATA_DIR": str(tmp_path / "data")}
    env["DJANGO_SETTINGS_MODULE"] = "remediator.settings"
    for name, value in files.items():
        path = tmp_path / name.lower()
        path.write_text(value)
        env[f"{name}_FILE"] = str(path)

    done = subprocess.run(
        [sys.executable, "-c", READ], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    engine, name, password, broker, cache = json.loads(done.stdout)
    assert (engine, name, password) == (
        "django.db.backends.postgresql",
        "remediator",
        "pw-from-file",
    )
    assert broker == "redis://:broker-pw@redis:6379/0"
    assert cache == "redis://:cache-pw@redis:6379/1"
