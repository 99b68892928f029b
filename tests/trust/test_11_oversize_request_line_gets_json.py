"""Class 11: what gunicorn refuses before Django sees it (a request line or headers past its
limits, malformed headers, odd methods and versions, broken bodies) is answered with the
JSON error every other refusal gets, never gunicorn's HTML page and never a 5xx.

A real gunicorn started from the Procfile's web line; each probe of
tests/fixtures/bad/edge_requests.tsv is sent byte for byte on its own connection.
"""

from __future__ import annotations

import codecs
import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import FIXTURES
from ._faults_support import WEBHOOK_SECRET, gunicorn

CORPUS = FIXTURES / "bad" / "edge_requests.tsv"
REPORT = (FIXTURES / "trivy/trivy_docs_reporting_alpine_latest.json").read_bytes()
TOKEN = re.compile(r"(<<[^>]+>>)")


@dataclass(frozen=True)
class Probe:
    name: str
    what: str
    status: int
    error: str
    then: str
    request: str

    def raw(self) -> bytes:
        """The request's bytes: escapes decoded, <<...>> expanded."""
        parts = []
        for part in TOKEN.split(self.request):
            if not part.startswith("<<"):
                parts.append(codecs.decode(part, "unicode_escape").encode("latin-1"))
                continue
            name, _, count = part[2:-2].partition("*")
            if name == "A":
                parts.append(b"A" * int(count))
            elif name == "HEADERS":
                parts.append(b"".join(b"X-Probe-%d: v\r\n" % i for i in range(int(count))))
            elif name == "SECRET":
                parts.append(WEBHOOK_SECRET.encode())
            elif name == "BODY":
                parts.append(REPORT)
            elif name == "LEN":
                parts.append(str(len(REPORT)).encode())
            else:
                raise ValueError(f"{self.name}: unknown expansion {part}")
        return b"".join(parts)


def probes() -> list[Probe]:
    found = []
    for line in CORPUS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, what, status, error, then, request = line.split("\t")
        found.append(Probe(name, what, int(status), error, then, request))
    return found


PROBES = probes()


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    with gunicorn(Path(tmp_path_factory.mktemp("edge"))) as server:
        yield server


def exchange(port: int, probe: Probe) -> tuple[int, dict, bytes]:
    """Send the probe (from a thread, so that an early answer is read while the rest is
    still being sent) and read the final answer (a 100 Continue is skipped)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    data = probe.raw()

    def send() -> None:
        try:
            sock.sendall(data)
            if probe.then == "close":
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed before reading it all
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        sender.join(timeout=30)
        sock.close()


@pytest.mark.parametrize("probe", PROBES, ids=[p.name for p in PROBES])
def test_an_odd_request_at_the_edge_gets_its_status_and_a_json_error(web, probe):
    status, headers, body = exchange(int(web.url.rsplit(":", 1)[1]), probe)

    assert status == probe.status, (probe.what, status, body[:300])
    assert headers.get("Content-Type", "").startswith("application/json"), (probe.what, headers)
    answer = json.loads(body)
    if probe.error == "-":
        assert 200 <= status < 300 and "error" not in answer
    else:
        assert answer["error"] == probe.error, (probe.what, answer)
        assert isinstance(answer["detail"], str) and answer["detail"]
    assert status < 500


def test_the_corpus_tries_every_limit_and_kind_of_edge_fault():
    names = {probe.name for probe in PROBES}
    assert {"request_line_5k", "request_line_10k", "request_line_70k"} <= names
    assert {"one_header_9k", "one_header_20k", "headers_150", "header_obs_fold"} <= names
    assert {"http_0_9", "chunked_bad_size", "expect_100_continue"} <= names
