"""Class 4 (database half): audit rows are never lost. Text from a review (user, names,
image references, annotations) is made storable before it reaches the database (NUL
dropped, the rest kept as data), and when a batch insert fails anyway its events are
written one by one: only the row that cannot be stored is missing, logged quoted and
counted. Runs on SQLite and, with DATABASE_URL, on PostgreSQL (which refuses NUL)."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY

from findings.models import RunningImage
from remediator.engine.admission.buffer import BUFFER
from remediator.engine.audit import audit_record
from remediator.engine.models import AuditEvent

from ._admission_support import (  # noqa: F401 (fixtures)
    DEBUG,
    admission_settings,
    answer_of,
    post_review,
    sample,
    shop,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]
NUL = "\x00"


def _failures() -> float:
    labels = {"kind": "admission"}
    return REGISTRY.get_sample_value("remediator_audit_write_failures_total", labels) or 0.0


def nul_review() -> dict:
    """The debug review with a NUL in every text a person or a controller can choose."""
    body = sample("update_pod_ephemeral_debug.json")
    request = body["request"]
    request["userInfo"] = {"username": f"mallory{NUL}", "groups": [f"ops{NUL}"]}
    request["name"] = f"api{NUL}-x2k9p"
    request["object"]["metadata"]["annotations"] = {
        "remediator.io/break-glass": f"INC-4711 database is down{NUL} NUL inside"
    }
    debugger = request["object"]["spec"]["ephemeralContainers"][0]
    debugger["name"] = f"debugger{NUL}"
    debugger["image"] = f"{DEBUG}{NUL}"
    return body


def test_a_nul_in_one_review_loses_no_event_of_its_batch(client, settings):
    settings.ADMISSION_WRITE_DELAY_SECONDS = 3600  # batched: the writer thread stays asleep
    clean = sample("update_deployment_to_fixed_image.json")
    for body in (clean, nul_review(), clean):
        assert post_review(client, body).status_code == 200
    assert not AuditEvent.objects.filter(kind="admission").exists()
    BUFFER.flush()
    events = list(AuditEvent.objects.filter(kind="admission").order_by("id"))
    assert len(events) == 3
    odd = events[1]
    assert odd.actor_label == "k8s:mallory" and odd.data["user"] == "mallory"
    assert odd.data["groups"] == ["ops"] and odd.data["name"] == "api-x2k9p"
    assert odd.data["images"][0]["image"] == DEBUG
    texts = [e.message + repr(e.data) + e.actor_label for e in events]
    assert not any(NUL in text for text in texts)


def test_a_review_with_nul_names_is_answered_and_only_its_clean_containers_recorded(
    client, settings
):
    settings.ADMISSION_UNKNOWN_IMAGES = "warn"
    body = nul_review()
    body["request"]["object"]["metadata"]["annotations"] = {}
    answer = answer_of(post_review(client, body))
    assert answer["allowed"] is True
    assert any("\\x00" in w for w in answer["warnings"])  # the reference, quoted
    assert AuditEvent.objects.filter(kind="admission").count() == 1
    assert list(RunningImage.objects.values_list("container", flat=True)) == ["api"]


def test_when_a_batch_fails_its_events_are_written_one_by_one(settings, caplog):
    """One event the database refuses (here: data that is not JSON) costs only itself."""
    settings.ADMISSION_WRITE_DELAY_SECONDS = 3600
    before = _failures()
    good = [AuditEvent(kind="admission", object_id=f"ok-{n}", message="ok") for n in range(3)]
    bad = AuditEvent(
        kind="admission", object_id="bad", message="line one\nforged: line two", data={"x": {1j}}
    )
    for event in (good[0], bad, good[1], good[2]):
        BUFFER.add(event, [])
    with caplog.at_level(logging.WARNING, logger="remediator.engine.admission.buffer"):
        BUFFER.flush()
    stored = AuditEvent.objects.filter(kind="admission")
    assert sorted(stored.values_list("object_id", flat=True)) == ["ok-0", "ok-1", "ok-2"]
    assert _failures() == before + 1
    [lost] = [r for r in caplog.records if r.levelno == logging.ERROR]
    text = lost.getMessage()
    assert "message='line one\\nforged: line two'" in text and "\n" not in text


def test_every_audit_text_is_stored_whatever_it_carries():
    event = audit_record(
        kind="provider_call",
        actor_label=f"provider:{NUL}x",
        message=f"GET https://registry.example.com/v2/{NUL} -> 500",
        data={f"k{NUL}": [f"v{NUL}", {"deep": f"\ud800{NUL}"}]},
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_label == "provider:x"
    assert stored.message == "GET https://registry.example.com/v2/ -> 500"
    assert stored.data == {"k": ["v", {"deep": "\ufffd"}]}
