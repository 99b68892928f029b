"""Starting the web process on a fresh DATA_DIR (what `make run` does) is quiet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOAD_WSGI = "from remediator.wsgi import application; print('loaded')"


def test_web_process_starts_on_a_fresh_data_dir_without_a_static_root_warning(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "var")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", LOAD_WSGI],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded" in done.stdout
