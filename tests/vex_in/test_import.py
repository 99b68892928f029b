"""Importing VEX documents: all of it or nothing, superseded by newer versions, matched
to findings, trusted or not; a statement never changes a finding."""

from __future__ import annotations

import json

import pytest

from findings.models import Delivery, Finding, VexAlias, VexImport, VexStatement
from findings.vex.selectors import finding_statements, trusted_not_affected_ids

from .conftest import vex_body, vex_receive
from .malformed import MALFORMED

pytestmark = pytest.mark.django_db


def openvex(
    version: int, status: str = "not_affected", *, timestamp="2024-07-10T12:17:44Z"
) -> bytes:
    document = json.loads(vex_body("openvex/trivy_oci.openvex.json"))
    document["version"] = version
    document["timestamp"] = timestamp
    for statement in document["statements"]:
        statement["status"] = status
        if status != "not_affected":
            statement.pop("justification", None)
    return json.dumps(document).encode()


def test_a_document_is_imported_with_its_statements_and_aliases():
    receipt = vex_receive(vex_body("cyclonedx/bom_examples_vex.json"))

    row = VexImport.objects.get()
    assert receipt.result.as_dict()["statements"] == 1
    assert (row.format, row.statement_count, row.delivery.status) == ("cyclonedx", 1, "processed")
    statement = VexStatement.objects.get()
    assert (statement.vulnerability_id, statement.status, statement.justification) == (
        "CVE-2020-25649",
        "not_affected",
        "vulnerable_code_not_in_execute_path",
    )
    assert list(VexAlias.objects.values_list("vulnerability_id", flat=True)) == [
        "SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302"
    ]


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_document_writes_nothing_and_its_delivery_is_kept_rejected(name):
    body, message = MALFORMED[name]
    receipt = vex_receive(body)

    assert receipt.problem is not None and message in receipt.problem.detail
    delivery = Delivery.objects.get()
    assert (delivery.source, delivery.status) == ("vex", "rejected")
    assert message in delivery.error
    assert not VexImport.objects.exists() and not VexStatement.objects.exists()


def test_a_failure_while_writing_leaves_nothing_half_applied(monkeypatch):
    from findings.vex import imports

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports.VexAlias.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        vex_receive(vex_body("cyclonedx/bom_examples_vex.json"))

    assert not VexImport.objects.exists() and not VexStatement.objects.exists()
    assert Delivery.objects.get().status == "queued"  # the worker's retry takes it up


def test_processing_a_delivery_again_changes_nothing():
    from remediator.intake.receive import delivery_process

    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))
    delivery = Delivery.objects.get()
    again = delivery_process(delivery=delivery)

    assert not again.created
    assert (VexImport.objects.count(), VexStatement.objects.count()) == (1, 7)


def test_a_newer_version_supersedes_and_an_older_one_arriving_later_does_not_count(busybox):
    vex_receive(openvex(1))
    vex_receive(openvex(3, "affected"))
    vex_receive(openvex(2))  # late: kept, but superseded at once

    first, third, second = VexImport.objects.order_by("id")
    assert (first.superseded_by, third.superseded_by, second.superseded_by) == (third, None, third)
    statuses = {view.status for view in finding_statements(Finding.objects.all())[busybox.pk]}
    assert statuses == {"affected"}


def test_the_same_version_reissued_later_takes_over():
    vex_receive(openvex(1))
    vex_receive(openvex(1, "under_investigation", timestamp="2024-08-01T00:00:00Z"))

    older, newer = VexImport.objects.order_by("id")
    assert (older.superseded_by, newer.superseded_by) == (newer, None)


def test_another_authors_document_of_the_same_id_supersedes_nothing():
    vex_receive(openvex(1))
    document = json.loads(openvex(2))
    document["author"] = "Someone Else"
    vex_receive(json.dumps(document).encode())

    assert not VexImport.objects.filter(superseded_by__isnull=False).exists()


def test_a_statement_matches_the_finding_of_the_image_it_names(busybox, go_transitive):
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))

    matched = finding_statements(Finding.objects.all())
    assert list(matched) == [busybox.pk]
    (view,) = matched[busybox.pk]
    assert (view.author, view.status, view.justification) == (
        "Aqua Security",
        "not_affected",
        "vulnerable_code_cannot_be_controlled_by_adversary",
    )


def test_statements_change_nothing_of_a_finding_trusted_or_not(busybox, settings):
    settings.VEX_TRUSTED_AUTHORS = ["Aqua Security"]
    before = Finding.objects.values().get(pk=busybox.pk)
    vex_receive(openvex(1, "fixed"))
    vex_receive(openvex(2, "not_affected"))

    assert Finding.objects.values().get(pk=busybox.pk) == before


def test_trust_is_by_author_glob_and_nobody_by_default(busybox, settings):
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))
    findings = Finding.objects.all()

    settings.VEX_TRUSTED_AUTHORS = []
    assert trusted_not_affected_ids(findings) == set()
    assert [v.trusted for v in finding_statements(findings)[busybox.pk]] == [False]
    settings.VEX_TRUSTED_AUTHORS = ["aqua *"]
    assert trusted_not_affected_ids(findings) == {busybox.pk}
    settings.VEX_TRUSTED_AUTHORS = ["Red Hat*"]
    assert trusted_not_affected_ids(findings) == set()


def test_a_trusted_affected_statement_outweighs_a_not_affected_one(busybox, settings):
    settings.VEX_TRUSTED_AUTHORS = ["*"]
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))
    document = json.loads(openvex(1, "affected"))
    document["@id"] = "https://vendor.example/vex/2"
    document["author"] = "Another Vendor"
    vex_receive(json.dumps(document).encode())

    assert trusted_not_affected_ids(Finding.objects.all()) == set()


def test_a_cve_id_written_in_lower_case_still_finds_its_finding(busybox):
    document = json.loads(vex_body("openvex/trivy_oci.openvex.json"))
    document["statements"][0]["vulnerability"]["name"] = "cve-2023-42363"
    vex_receive(json.dumps(document).encode())

    assert list(finding_statements(Finding.objects.all())) == [busybox.pk]
    assert VexStatement.objects.filter(vulnerability_id="CVE-2023-42363").exists()


def test_reading_statements_takes_a_bounded_number_of_queries(
    busybox, go_transitive, django_assert_max_num_queries
):
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))
    vex_receive(vex_body("csaf/trivy_csaf.json"))

    with django_assert_max_num_queries(5):
        matched = finding_statements(Finding.objects.all())

    assert set(matched) == {busybox.pk, go_transitive.pk}


def test_the_criterion_costs_no_query_while_nobody_is_trusted(
    busybox, settings, django_assert_num_queries
):
    settings.VEX_TRUSTED_AUTHORS = []
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))

    with django_assert_num_queries(0):
        assert trusted_not_affected_ids(Finding.objects.all()) == set()
