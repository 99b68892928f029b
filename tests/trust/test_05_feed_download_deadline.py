"""Class 5: feed downloads have an overall deadline.

Connect and read timeouts bound each wait, not the whole: a server that sends a byte
every few seconds never trips a 30 s read timeout and would hold a worker for hours.
THREAT_INTEL_DOWNLOAD_DEADLINE bounds the body, checked while streaming (each read
waits at most what is left of it). Past it: a transient ProviderError naming the
deadline; through the command or the beat refresh, a refusal ("download") that
changes nothing and is audited and counted.

A real local HTTP server (pytest-httpserver, threaded) trickles the real KEV excerpt.
The only timed assertions are the deadline the product promises, with a wide margin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from findings.models import ThreatIntel, ThreatIntelFeed
from remediator.core.errors import ProviderError
from remediator.engine.models import AuditEvent
from remediator.engine.services.threat_intel import threat_intel_import
from remediator.engine.tasks import threat_intel_refresh_task
from remediator.integrations.threat_intel.client import feed_download

from ._intel_support import REAL_EPSS, REAL_KEV, refused_metric, stored

DEADLINE = 2.0
MARGIN = 10.0
"""Generous: the shared CI machine is slow; the point is "not minutes"."""
BODY = REAL_KEV.read_bytes()


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Set when the test ends, so a server still trickling stops at once."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def server(stop) -> Iterator[HTTPServer]:
    """A threaded server of its own: a trickling answer must not block other tests."""
    httpserver = HTTPServer(threaded=True)
    httpserver.start()
    yield httpserver
    stop.set()
    httpserver.clear()
    httpserver.stop()


def trickle(stop: threading.Event, *, every: float, stall_after: int = -1) -> Response:
    """The KEV excerpt one byte at a time, ``every`` seconds apart; after ``stall_after``
    bytes, nothing more until the test ends (a stalled server)."""

    def handler(_request: Request) -> Response:
        def body() -> Iterator[bytes]:
            for n, byte in enumerate(BODY):
                if n == stall_after:
                    stop.wait(600)
                if stop.wait(every):
                    return
                yield bytes([byte])

        return Response(body(), content_type="application/json", direct_passthrough=True)

    return handler


@pytest.fixture
def deadline(settings):
    settings.THREAT_INTEL_DOWNLOAD_DEADLINE = DEADLINE
    settings.PROVIDER_READ_TIMEOUT = 30.0
    settings.PROVIDER_RETRIES = 0
    return settings


def _timed(call) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises((ProviderError, CommandError)) as raised:
        call()
    return raised.value, time.monotonic() - started


@pytest.mark.django_db
def test_a_server_trickling_a_byte_at_a_time_is_cut_off_at_the_deadline(server, stop, deadline):
    """Each byte comes well within the read timeout; the whole would take minutes."""
    server.expect_request("/kev.json").respond_with_handler(trickle(stop, every=0.25))
    error, elapsed = _timed(lambda: feed_download(server.url_for("/kev.json"), deadline=DEADLINE))
    assert isinstance(error, ProviderError) and not error.permanent
    assert "was not downloaded within its deadline of 2 s" in str(error)
    assert elapsed < DEADLINE + MARGIN


@pytest.mark.django_db
def test_a_server_that_stalls_after_a_few_bytes_is_cut_off_before_its_read_timeout(
    server, stop, deadline
):
    """One read may not wait its whole read timeout (30 s) past the deadline."""
    server.expect_request("/kev.json").respond_with_handler(
        trickle(stop, every=0.01, stall_after=20)
    )
    error, elapsed = _timed(lambda: feed_download(server.url_for("/kev.json"), deadline=DEADLINE))
    assert "deadline" in str(error) and not error.permanent
    assert elapsed < DEADLINE + MARGIN


@pytest.mark.django_db
def test_a_fast_server_is_downloaded_whole_under_the_same_deadline(server, deadline):
    server.expect_request("/kev.json").respond_with_data(BODY, content_type="application/json")
    with feed_download(server.url_for("/kev.json"), deadline=DEADLINE) as spool:
        assert spool.read() == BODY


@pytest.mark.django_db
def test_the_command_refuses_a_download_past_its_deadline_and_changes_nothing(
    server, stop, deadline
):
    threat_intel_import(epss=str(REAL_EPSS), kev=str(REAL_KEV))
    before = stored()
    server.expect_request("/kev.json").respond_with_handler(trickle(stop, every=0.25))
    error, elapsed = _timed(
        lambda: call_command("threat_intel_import", "--kev", server.url_for("/kev.json"))
    )
    assert error.returncode == 2
    assert str(error).startswith("kev: refused (download): ")
    assert "THREAT_INTEL_DOWNLOAD_DEADLINE" in str(error)
    assert elapsed < DEADLINE + MARGIN
    assert stored() == before


@pytest.mark.django_db
def test_a_beat_refresh_past_its_deadline_is_audited_and_counted(server, stop, deadline):
    server.expect_request("/kev.json").respond_with_handler(trickle(stop, every=0.25))
    deadline.EPSS_URL = ""
    deadline.KEV_URL = server.url_for("/kev.json")
    before = refused_metric("kev", "download")

    (answer,) = threat_intel_refresh_task()

    assert (answer["feed"], answer["refused"]) == ("kev", "download")
    assert refused_metric("kev", "download") == before + 1
    event = AuditEvent.objects.filter(kind="config").latest("pk")
    assert event.message.startswith("kev import refused (download): ")
    assert ThreatIntelFeed.objects.get(feed="kev").refused_reason == "download"
    assert not ThreatIntel.objects.exists()
