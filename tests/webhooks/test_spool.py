"""Nothing lost when the database is down: spool, replay, and 503 only when both fail."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime

import pytest
from django.conf import settings as django_settings
from django.utils.dateparse import parse_datetime

from findings.models import Delivery
from remediator.intake import spool_replay as webhook_spool
from remediator.intake.spool import spool_pending, spool_read, spool_write
from remediator.intake.spool_replay import spool_replay
from remediator.intake.tasks import spool_replay_task

from ..outage import database_down

pytestmark = pytest.mark.django_db(transaction=True)
TRIVY = "trivy/trivy_docs_reporting_alpine_latest.json"
URL = "/api/v1/webhooks/trivy/"


@pytest.fixture(autouse=True)
def spool(settings, tmp_path):
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    settings.WEBHOOK_SPOOL_INLINE_EVERY = 3600.0  # inline replay only where a test asks
    return settings.WEBHOOK_SPOOL_DIR


def test_body_is_spooled_with_what_the_receiver_knew_when_the_database_is_down(
    post, fixture_bytes, spool
):
    body = fixture_bytes(TRIVY)
    with database_down():
        response = post(f"{URL}?image=registry.example.com/alpine:3.19", body,
                        HTTP_X_GITHUB_DELIVERY="gh-77")  # fmt: skip
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["status"] == "spooled" and answer["spool_id"]
    [path] = spool_pending()
    assert path.name == f"{answer['spool_id']}.spool"
    entry = spool_read(path)
    assert entry.body == body
    assert entry.meta["source"] == "trivy"
    assert entry.meta["external_id"] == "gh-77"
    assert entry.meta["image_hint"] == "registry.example.com/alpine:3.19"
    assert entry.meta["headers"]["auth"] == "authorization"
    assert entry.meta["headers"]["content-type"] == "application/json"
    assert not list(spool.glob(".tmp-*"))

    outcome = spool_replay()

    [delivery] = Delivery.objects.all()
    assert outcome.stored == [delivery.pk] and not spool_pending()
    assert delivery.status == Delivery.Status.QUEUED
    assert delivery.body == body and delivery.external_id == "gh-77"
    assert delivery.image_hint == "registry.example.com/alpine:3.19"
    assert delivery.headers["auth"] == "authorization"
    assert delivery.headers["spooled"] == answer["spool_id"]
    assert delivery.received_at == parse_datetime(entry.meta["received_at"])


def test_authentication_needs_no_database(post, fixture_bytes):
    with database_down():
        wrong = post(URL, fixture_bytes(TRIVY), HTTP_AUTHORIZATION="Bearer wrong")
        missing = post(URL, fixture_bytes(TRIVY), auth=False)
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert not spool_pending()


def test_replay_is_idempotent(post, fixture_bytes):
    body = fixture_bytes(TRIVY)
    with database_down():
        assert post(URL, body).status_code == 202
        again = post(URL, body)  # the sender retried: still one file
        assert again.status_code == 202 and again.json()["duplicate"] is True
        assert len(spool_pending()) == 1
        assert post(URL, b'{"other": 1}', HTTP_WEBHOOK_ID="msg_1").status_code == 202
    # Back up: the sender sends msg_1 again before the replay; it is stored (and rejected).
    assert post(URL, b'{"other": 2}', HTTP_WEBHOOK_ID="msg_1").status_code == 422

    first = spool_replay()
    second = spool_replay()

    assert len(first.stored) == 1 and len(first.duplicates) == 1  # msg_1, stored meanwhile
    assert second.stored == second.duplicates == [] and not spool_pending()
    assert Delivery.objects.count() == 2
    assert Delivery.objects.filter(external_id="msg_1").count() == 1


def test_answers_503_with_retry_after_only_when_the_spool_cannot_be_written(
    post, fixture_bytes, settings, tmp_path
):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings.WEBHOOK_SPOOL_DIR = blocker / "spool"
    with database_down():
        refused = post(URL, fixture_bytes(TRIVY))
    assert refused.status_code == 503
    assert refused["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER)
    assert refused.json()["error"] == "unavailable"

    stored = post(URL, fixture_bytes(TRIVY))  # database back: the spool is not needed
    assert stored.status_code == 202 and stored.json()["status"] == "queued"


def test_the_next_stored_webhook_replays_the_spool(post, settings, monkeypatch):
    with database_down():
        assert post(URL, b'{"during": "outage"}').status_code == 202
    settings.WEBHOOK_SPOOL_INLINE_EVERY = 0.0
    monkeypatch.setattr(webhook_spool, "_last_inline_replay", 0.0)

    assert post(URL, b'{"after": "outage"}').status_code in (202, 422)

    assert not spool_pending()
    assert Delivery.objects.count() == 2


def test_a_file_another_replayer_holds_is_left_to_it(spool):
    spool_write(source="trivy", body=b"{}")
    [path] = spool_pending()
    with open(path, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        outcome = spool_replay()
    assert outcome.skipped == 1 and spool_pending() == [path]
    assert not Delivery.objects.exists()


def test_a_damaged_spool_file_is_set_aside_not_stored(spool):
    spool_write(source="trivy", body=b'{"a": 1}')
    [path] = spool_pending()
    path.write_bytes(path.read_bytes()[:-2])  # truncated

    outcome = spool_replay()

    assert outcome.bad == 1 and not spool_pending()
    assert (spool / "bad" / path.name).exists()
    assert not Delivery.objects.exists()


def test_replay_keeps_files_while_the_database_is_still_down(spool):
    spool_write(source="trivy", body=b"{}")
    with database_down():
        outcome = spool_replay()
    assert outcome.database_down and len(spool_pending()) == 1


def test_beat_runs_the_replay_task(spool):
    spool_write(
        source="harbor",
        body=b'{"type": "PUSH_ARTIFACT"}',
        received_at=datetime(2026, 1, 1).astimezone(),
    )
    assert (
        django_settings.CELERY_BEAT_SCHEDULE["findings-spool-replay"]["task"]
        == "findings.spool_replay"
    )
    result = spool_replay_task.apply().get()
    assert len(result["stored"]) == 1 and not spool_pending()
    assert Delivery.objects.get().received_at.year == 2026


def test_spool_files_are_fsynced_whole_files_never_partial(spool):
    spool_id = spool_write(source="trivy", body=b"x" * 100_000)
    assert sorted(os.listdir(spool)) == [f"{spool_id}.spool", "index"]  # no temp file left


def test_other_api_requests_answer_json_503_when_the_database_is_down(client, settings):
    with database_down():
        response = client.get("/api/v1/deliveries/", HTTP_AUTHORIZATION="Token abc")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER)
    assert response.json()["error"] == "unavailable"
