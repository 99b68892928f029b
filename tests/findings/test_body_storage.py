"""Raw bodies are kept compressed and come back byte for byte, whichever compression
their row was stored with."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from findings.models import ZSTD_MAGIC, Delivery
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

pytestmark = pytest.mark.django_db
BODY = (
    Path(__file__).resolve().parents[1] / "fixtures/trivy/trivy_docs_reporting_alpine_latest.json"
).read_bytes()


def test_a_stored_body_is_a_zstandard_frame_and_reads_back_exactly():
    delivery, created = delivery_store(source="trivy", body=BODY, channel="webhook")

    stored = bytes(Delivery.objects.get(pk=delivery.pk).body_gz)
    assert created and stored[:4] == ZSTD_MAGIC
    assert len(stored) < len(BODY)
    assert Delivery.objects.get(pk=delivery.pk).body == BODY


def test_a_body_stored_with_zlib_before_still_reads_and_processes():
    delivery, _ = delivery_store(source="trivy", body=BODY, channel="webhook")
    Delivery.objects.filter(pk=delivery.pk).update(body_gz=zlib.compress(BODY, 1))

    old = Delivery.objects.get(pk=delivery.pk)
    assert old.body == BODY
    delivery_process(delivery=old)
    old.refresh_from_db()
    assert old.status == Delivery.Status.PROCESSED
    assert old.scan.findings_count == 2


@pytest.mark.parametrize("old_zlib", [False, True])
def test_a_preview_reads_only_the_head_of_either_kind(old_zlib):
    delivery, _ = delivery_store(source="trivy", body=BODY, channel="webhook")
    if old_zlib:
        Delivery.objects.filter(pk=delivery.pk).update(body_gz=zlib.compress(BODY, 1))
    stored = Delivery.objects.get(pk=delivery.pk)

    assert stored.body_head(100) == BODY[:100]
    assert stored.body_head(10 * len(BODY)) == BODY
