"""deploy/image/healthcheck.py, the image's HEALTHCHECK, imported from its path."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.outage import closed_port

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "image" / "healthcheck.py"


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_healthcheck", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def plain_http(monkeypatch):
    monkeypatch.delenv("TLS_CERT_FILE", raising=False)


def test_the_script_is_executable():
    assert os.access(SCRIPT, os.X_OK)


def test_beat_without_a_schedule_store_says_where_it_looked(healthcheck, monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    assert healthcheck.beat() == f"no schedule store at {tmp_path / 'celerybeat-schedule'}"


@pytest.mark.parametrize("suffix", ["", ".db", ".dat"])
def test_beat_with_a_freshly_written_store_is_healthy(healthcheck, monkeypatch, tmp_path, suffix):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    (tmp_path / f"celerybeat-schedule{suffix}").write_bytes(b"shelve")

    assert healthcheck.beat() == ""


def test_beat_with_a_store_untouched_for_eleven_minutes_is_stuck(
    healthcheck, monkeypatch, tmp_path
):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    store = tmp_path / "celerybeat-schedule"
    store.write_bytes(b"shelve")
    eleven_minutes_ago = time.time() - 11 * 60
    os.utime(store, (eleven_minutes_ago, eleven_minutes_ago))

    problem = healthcheck.beat()

    assert problem.startswith("schedule store not written for ")
    assert int(problem.split()[-2]) >= 660


def test_beat_judges_by_the_newest_file_of_the_store(healthcheck, monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    old = tmp_path / "celerybeat-schedule.bak"
    old.write_bytes(b"")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    (tmp_path / "celerybeat-schedule.dat").write_bytes(b"")

    assert healthcheck.beat() == ""


def test_web_is_healthy_when_healthz_answers_200(healthcheck, monkeypatch, httpserver, plain_http):
    monkeypatch.setenv("PORT", str(httpserver.port))
    httpserver.expect_request("/healthz", method="GET").respond_with_json({"status": "ok"})

    assert healthcheck.web() == ""
    assert [request.path for request, _ in httpserver.log] == ["/healthz"]


def test_web_answering_500_is_unhealthy_with_one_line(
    healthcheck, monkeypatch, httpserver, capsys, plain_http
):
    monkeypatch.setenv("PORT", str(httpserver.port))
    monkeypatch.setattr(healthcheck, "role", lambda: "web")
    httpserver.expect_request("/healthz").respond_with_data("boom", status=500)

    assert healthcheck.main() == 1
    assert capsys.readouterr().out == "HTTPError: HTTP Error 500: INTERNAL SERVER ERROR\n"


def test_nothing_listening_is_unhealthy_in_one_line_not_a_traceback(
    healthcheck, monkeypatch, capsys, plain_http
):
    monkeypatch.setenv("PORT", str(closed_port()))
    monkeypatch.setattr(healthcheck, "role", lambda: "admission")

    assert healthcheck.main() == 1
    out = capsys.readouterr().out
    assert out.startswith("URLError: ") and "Connection refused" in out
    assert len(out.splitlines()) == 1


@pytest.mark.parametrize("role", ["migrate", "check", "manage"])
def test_one_shot_roles_are_always_healthy(healthcheck, monkeypatch, capsys, role):
    monkeypatch.setattr(healthcheck, "role", lambda: role)

    assert healthcheck.main() == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        (b"/usr/bin/tini\0--\0/app/deploy/image/entrypoint\0worker\0", "worker"),
        (b"tini\0--\0entrypoint\0beat\0--loglevel\0web\0", "beat"),
        (b"tini\0--\0entrypoint\0manage\0inventory_import\0", "manage"),
        (b"tini\0--\0entrypoint\0", "web"),
    ],
)
def test_role_is_the_first_role_named_on_pid_1s_command_line(
    healthcheck, monkeypatch, tmp_path, cmdline, expected
):
    fake = tmp_path / "cmdline"
    fake.write_bytes(cmdline)
    real_open = open

    def open_pid_1(path, *args, **kwargs):
        assert path == "/proc/1/cmdline"
        return real_open(fake, *args, **kwargs)

    monkeypatch.setattr(healthcheck, "open", open_pid_1, raising=False)

    assert healthcheck.role() == expected
