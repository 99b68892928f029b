"""Versions of the documents: a decision issues v1, a reversal v2 without its
statement, an expired acceptance a version without it, nothing changed no version.
Every document stored is checked against the OpenVEX schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from remediator.engine.models import VexDocument
from remediator.engine.services.risk import (
    accepted_risks_expire,
    finding_accept_risk,
    finding_investigate_start,
    finding_investigate_stop,
    finding_mark_false_positive,
    finding_reopen,
)
from remediator.engine.vex.documents import Subject, newest
from remediator.engine.vex.reissue import vex_reissue, vex_reissue_all

from .conftest import valid_openvex

pytestmark = pytest.mark.django_db
DIGEST = "sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"
PRODUCT = f"pkg:oci/alpine@{DIGEST}?repository_url=index.docker.io%2Flibrary%2Falpine"


def repository_document(finding: Finding) -> VexDocument | None:
    return newest(Subject(finding.repository).purl)


def statuses(document: VexDocument) -> list[tuple[str, str, str]]:
    return [
        (s["status"], s["products"][0]["@id"], s["products"][0]["subcomponents"][0]["@id"])
        for s in valid_openvex(document.document)["statements"]
    ]


def test_a_false_positive_issues_v1_naming_the_digest_and_package(
    alpine, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        finding_mark_false_positive(
            finding_id=alpine["libcrypto3"].pk,
            user=people["alice"],
            reason="FIPS provider unused",
            justification="vulnerable_code_not_in_execute_path",
        )

    document = repository_document(alpine["libcrypto3"])
    assert document.version == 1
    assert statuses(document) == [("not_affected", PRODUCT, "pkg:apk/alpine/libcrypto3@3.3.2-r0")]
    statement = document.document["statements"][0]
    assert statement["justification"] == "vulnerable_code_not_in_execute_path"
    assert statement["vulnerability"] == {"name": "CVE-2024-9143"}
    digest_document = newest(PRODUCT)
    assert digest_document.document["statements"] == document.document["statements"]
    assert document.document["@id"] == (
        f"https://remediator.example.com/api/v1/images/{alpine['libcrypto3'].repository_id}/vex/"
    )


def test_reversal_issues_v2_without_the_statement_and_unchanged_issues_nothing(
    alpine, people, django_capture_on_commit_callbacks
):
    finding = alpine["libcrypto3"]
    with django_capture_on_commit_callbacks(execute=True):
        finding_mark_false_positive(finding_id=finding.pk, user=people["alice"], reason="x")
    with django_capture_on_commit_callbacks(execute=True):
        finding_investigate_start(finding_id=alpine["libssl3"].pk, user=people["bob"], reason="y")
    v2 = repository_document(finding)
    assert [s[0] for s in statuses(v2)] == ["not_affected", "under_investigation"]

    with django_capture_on_commit_callbacks(execute=True):
        finding_reopen(finding_id=finding.pk, user=people["alice"], reason="wrong call")
    v3 = repository_document(finding)

    assert v3.version == 3
    assert [s[0] for s in statuses(v3)] == ["under_investigation"]
    first = VexDocument.objects.get(subject=v3.subject, version=1)
    assert v3.document["timestamp"] == first.document["timestamp"]
    assert v3.document["last_updated"] > first.document["last_updated"]
    vex_reissue(finding.repository)
    vex_reissue_all()
    assert repository_document(finding).version == 3  # nothing changed: no new version


def test_stopping_the_investigation_leaves_a_retraction_that_is_not_served(
    alpine, people, django_capture_on_commit_callbacks
):
    finding = alpine["libssl3"]
    with django_capture_on_commit_callbacks(execute=True):
        finding_investigate_start(finding_id=finding.pk, user=people["bob"], reason="y")
    with django_capture_on_commit_callbacks(execute=True):
        finding_investigate_stop(finding_id=finding.pk, user=people["bob"])

    document = repository_document(finding)
    assert (document.version, document.statements_count) == (2, 0)
    finding.refresh_from_db()
    assert finding.investigating_since is None and finding.status == "open"


def test_an_expired_acceptance_is_reissued_without_it(
    alpine, people, django_capture_on_commit_callbacks
):
    until = timezone.now() + timedelta(days=30)
    with django_capture_on_commit_callbacks(execute=True):
        finding_accept_risk(
            finding_id=alpine["libssl3"].pk, user=people["alice"], reason="patch in Q1", until=until
        )
        finding_mark_false_positive(
            finding_id=alpine["libcrypto3"].pk, user=people["alice"], reason="not used"
        )
    before = repository_document(alpine["libssl3"])
    accepted = [s for s in before.document["statements"] if s["status"] == "affected"]
    assert accepted[0]["action_statement"] == (
        f"Risk accepted until {until.date().isoformat()} (patch in Q1)"
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert accepted_risks_expire(now=until + timedelta(seconds=1)) == 1
    after = repository_document(alpine["libssl3"])

    assert after.version == before.version + 1
    assert [s[0] for s in statuses(after)] == ["not_affected"]


def test_an_acceptance_past_its_end_leaves_the_document_before_beat_reopens_it(
    alpine, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        finding_accept_risk(
            finding_id=alpine["libssl3"].pk,
            user=people["alice"],
            reason="r",
            until=timezone.now() + timedelta(days=1),
        )
    Finding.objects.filter(pk=alpine["libssl3"].pk).update(
        accepted_until=timezone.now() - timedelta(minutes=1)
    )

    vex_reissue_all()

    assert repository_document(alpine["libssl3"]).statements_count == 0


def test_a_decision_that_fails_to_issue_still_stands(
    alpine, people, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(ids):
        raise RuntimeError("disk full")

    monkeypatch.setattr("remediator.engine.vex.reissue.vex_reissue_findings", broken)
    with django_capture_on_commit_callbacks(execute=True):
        finding_mark_false_positive(
            finding_id=alpine["libcrypto3"].pk, user=people["alice"], reason="x"
        )

    assert Finding.objects.get(pk=alpine["libcrypto3"].pk).status == "false_positive"
    assert "beat will retry" in caplog.text
    vex_reissue_all()  # beat repairs it
    assert repository_document(alpine["libcrypto3"]).version == 1
