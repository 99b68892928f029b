"""A scan moves the admission cache of its own image only: during a burst of scans every
other image's facts stay in memory (checked once a second by one shared-cache read),
and a scan of the image, here or in another process, has it read again."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from remediator.engine.admission import cache as admission_cache
from remediator.engine.admission.cache import admission_facts, image_keys
from tests.engine.factories import ingest, vuln

pytestmark = pytest.mark.django_db
ALPINE = "docker.io/library/alpine:3.10"
NGINX = "docker.io/library/nginx:latest"


class Clock:
    """time.monotonic of the cache module, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(admission_cache.time.monotonic())
    monkeypatch.setattr(admission_cache.time, "monotonic", clock)
    return clock


def finding_reads(references: list[str]) -> tuple[int, dict]:
    """(how many queries read findings, the facts) of one lookup."""
    with CaptureQueriesContext(connection) as queries:
        _, known = admission_facts(references)
    reads = sum('"findings_finding"' in q["sql"] for q in queries.captured_queries)
    return reads, known


def vulnerabilities(known: dict, reference: str) -> set[str]:
    facts, _ = known[reference]
    return {f.vulnerability for f in facts.findings}


def test_a_scan_of_another_image_leaves_the_facts_cached(
    vulnerable, clock, django_capture_on_commit_callbacks
):
    admission_facts([ALPINE, NGINX])
    with django_capture_on_commit_callbacks(execute=True):
        ingest(vuln("CVE-2024-0002", "openssl"), image="nginx", tag="latest", digest_no=126)
    clock.now += 2  # past the once-a-second check

    reads, known = finding_reads([ALPINE])
    assert reads == 0
    assert vulnerabilities(known, ALPINE) == {"CVE-2024-6119"}

    reads, known = finding_reads([NGINX])
    assert reads >= 1
    assert vulnerabilities(known, NGINX) == {"CVE-2024-0002"}


def test_a_scan_in_another_process_is_seen_within_a_second(vulnerable, clock):
    admission_facts([ALPINE])
    # what admission_cache_touch in a worker writes: alpine:3.10's generation moves
    cache.set_many(dict.fromkeys(image_keys(ALPINE), "moved-by-a-worker"))

    reads, _ = finding_reads([ALPINE])
    assert reads == 0  # checked less than a second ago: still from memory

    clock.now += 2
    reads, known = finding_reads([ALPINE])
    assert reads >= 1
    assert vulnerabilities(known, ALPINE) == {"CVE-2024-6119"}

    clock.now += 2  # read again and remembered with the new generation: stable
    reads, _ = finding_reads([ALPINE])
    assert reads == 0


def test_image_keys_name_the_digest_else_the_tag():
    digest = "sha256:" + "a" * 64
    assert image_keys(f"{ALPINE}@{digest}") == (f"admission:image:{digest}",)
    assert image_keys(f"{ALPINE}@@{digest}") == (f"admission:image:{digest}",)
    assert image_keys(ALPINE) == (f"admission:image:{ALPINE}",)
