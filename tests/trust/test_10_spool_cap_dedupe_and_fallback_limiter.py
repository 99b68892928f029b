"""Class 10: while the database is down the spool is capped by bytes, keeps one file per
body however often it is posted, and the webhook rate limit still holds (each process
counts in its own memory). The database is really unreachable (tests/outage.py)."""

from __future__ import annotations

import os
import shutil

import pytest
from prometheus_client import REGISTRY

from findings.models import Delivery
from remediator.api.rate_limit import PROCESS_COUNTS
from remediator.core.disk import GIB, default_spool_max_bytes
from remediator.intake.spool import spool_pending, spool_read
from remediator.intake.spool_replay import spool_replay

from ..conftest import FIXTURES
from ..outage import database_down

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/webhooks/trivy/"
SECRET = "spool-limits-secret"
TRIVY = (FIXTURES / "trivy/trivy_docs_reporting_alpine_latest.json").read_bytes()


def distinct(n: int) -> list[bytes]:
    base = TRIVY.rstrip()[:-1]
    return [base + f', "spool_n": {i}}}'.encode() for i in range(n)]


@pytest.fixture
def post(client, monkeypatch):
    """POST a body to a webhook with the bearer secret."""
    for name in [k for k in os.environ if k.startswith("WEBHOOK_SECRET")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)

    def send(path: str, body: bytes):
        return client.generic(
            "POST", path, body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {SECRET}",
        )  # fmt: skip

    return send


@pytest.fixture(autouse=True)
def spool(settings, tmp_path):
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    settings.WEBHOOK_SPOOL_INLINE_EVERY = 3600.0  # no inline replay unless a test asks
    PROCESS_COUNTS.clear()
    yield settings.WEBHOOK_SPOOL_DIR
    PROCESS_COUNTS.clear()


def spool_full_count() -> float:
    value = REGISTRY.get_sample_value("remediator_webhook_spool_full_total", {"source": "trivy"})
    return value or 0.0


def test_past_the_cap_a_body_is_answered_503_with_retry_after_not_kept_and_counted(post, settings):
    first, second = distinct(2)
    settings.WEBHOOK_SPOOL_MAX_BYTES = len(first) + len(second) // 2  # room for one file
    before = spool_full_count()
    with database_down():
        kept = post(URL, first)
        refused = post(URL, second)

    assert kept.status_code == 202 and kept.json()["status"] == "spooled"
    assert refused.status_code == 503
    assert refused.json()["error"] == "spool_full"
    assert "WEBHOOK_SPOOL_MAX_BYTES" in refused.json()["detail"]
    assert "send it again" in refused.json()["detail"]
    assert refused["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER)
    assert spool_full_count() == before + 1
    [path] = spool_pending()
    assert spool_read(path).body == first

    # The sender retries once the database is back: stored like any post.
    assert post(URL, second).status_code == 202
    assert len(spool_replay().stored) == 1
    assert Delivery.objects.count() == 2


def test_a_body_posted_again_during_an_outage_is_one_file_and_one_delivery(post, spool):
    [body] = distinct(1)
    with database_down():
        answers = [post(URL, body) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 202]
    ids = {a.json()["spool_id"] for a in answers}
    assert len(ids) == 1
    assert [a.json().get("duplicate", False) for a in answers] == [False, True, True]
    assert len(spool_pending()) == 1

    outcome = spool_replay()

    assert len(outcome.stored) == 1 and outcome.duplicates == []
    assert Delivery.objects.count() == 1
    assert not spool_pending() and not list((spool / "index").iterdir())


def test_the_same_bytes_with_another_image_hint_are_kept_apart(post):
    [body] = distinct(1)
    with database_down():
        first = post(f"{URL}?image=registry.example.com/a:1", body)
        second = post(f"{URL}?image=registry.example.com/b:1", body)
    assert first.json()["spool_id"] != second.json()["spool_id"]
    assert len(spool_pending()) == 2


def test_a_body_whose_file_was_set_aside_is_written_again_never_lost(post, spool):
    [body] = distinct(1)
    with database_down():
        first = post(URL, body).json()["spool_id"]
        (spool / "bad").mkdir()
        shutil.move(spool / f"{first}.spool", spool / "bad")  # the index still names it
        again = post(URL, body)

    assert again.status_code == 202 and "duplicate" not in again.json()
    [path] = spool_pending()
    assert spool_read(path).body == body
    assert spool_replay().stored and Delivery.objects.get().body == body


def test_while_the_database_is_down_the_rate_limit_still_holds_in_each_process(post, settings):
    settings.WEBHOOK_RATE_LIMIT = 2
    with database_down():
        answers = [post(URL, body) for body in distinct(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert answers[2].json()["error"] == "rate_limited" and answers[2]["Retry-After"]
    assert len(spool_pending()) == 2  # the refused body was neither read nor kept


def test_the_default_cap_is_a_gibibyte_or_a_tenth_of_the_spool_disk(tmp_path):
    total = shutil.disk_usage(tmp_path).total
    cap = default_spool_max_bytes(tmp_path / "not" / "made" / "yet")
    assert cap == min(GIB, total // 10)
