"""Vendor statements on the finding page, the image page and the API. The Must show:
a vendor CSAF document marks a finding not affected, with its source shown."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from findings.models import Delivery
from remediator.intake.tasks import delivery_process_task
from tests.api.conftest import viewer

from .conftest import vex_body, vex_receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader_client(client):
    client.force_login(viewer("reader"))
    return client


def test_a_vendor_csaf_document_marks_a_finding_not_affected_with_its_source_shown(
    post, go_transitive, reader_client, settings
):
    settings.VEX_TRUSTED_AUTHORS = ["Example Company*"]
    response = post("/api/v1/webhooks/vex/", vex_body("csaf/trivy_csaf.json"))
    assert response.status_code == 202
    delivery_process_task.apply(args=[response.json()["delivery"]])

    page = reader_client.get(f"/findings/{go_transitive.pk}/").content.decode()

    section = page[page.index('id="vendor-statements"') :][:3000]
    assert "<strong>not affected</strong> per" in section
    assert "2022-EVD-UC-01-A-001" in section  # the document id
    assert "Example Company ProductCERT" in section  # its publisher
    assert 'datetime="2022-03-03T11:00:00+00:00"' in section  # its release date
    assert "Impact: vulnerable_code_not_in_execute_path" in section
    assert ">trusted</span>" in section
    go_transitive.refresh_from_db()
    assert go_transitive.status == "open"  # evidence only


def test_an_untrusted_statement_is_shown_marked_untrusted(busybox, reader_client):
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))

    page = reader_client.get(f"/findings/{busybox.pk}/").content.decode()

    assert "Aqua Security" in page and ">untrusted</span>" in page
    assert "vulnerable code cannot be controlled by adversary" in page
    assert 'href="https://openvex.dev/docs/public/vex-8e30ed75' in page


def test_a_finding_no_document_speaks_of_says_so(go_transitive, reader_client):
    page = reader_client.get(f"/findings/{go_transitive.pk}/").content.decode()
    assert "No imported VEX document speaks of this finding." in page


def test_the_image_page_counts_and_lists_the_statements(busybox, reader_client, settings):
    settings.VEX_TRUSTED_AUTHORS = ["Aqua Security"]
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))

    page = reader_client.get(f"/images/{busybox.repository_id}/").content.decode()

    section = page[page.index('id="vendor-statements"') :][:4000]
    assert "1 open finding of this image is spoken of" in section
    assert "1 not_affected" in section and "1 marked not affected by a trusted author" in section
    assert "CVE-2023-42363" in section and "busybox" in section


def test_text_from_a_document_is_escaped_on_the_page(busybox, reader_client):
    document = json.loads(vex_body("openvex/trivy_oci.openvex.json"))
    document["author"] = "<script>alert(1)</script>"
    document["statements"][0]["impact_statement"] = "<img src=x onerror=alert(2)>"
    vex_receive(json.dumps(document).encode())

    page = reader_client.get(f"/findings/{busybox.pk}/").content.decode()

    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page


def test_the_api_gives_a_finding_s_statements_and_the_imports(busybox, settings):
    settings.VEX_TRUSTED_AUTHORS = ["aqua*"]
    vex_receive(vex_body("openvex/trivy_oci.openvex.json"))
    api = APIClient()
    api.force_authenticate(viewer("reader"))

    statements = api.get(f"/api/v1/findings/{busybox.pk}/vex-statements/").json()
    imports = api.get("/api/v1/vex/imports/").json()

    (statement,) = statements["statements"]
    assert (statement["status"], statement["trusted"], statement["document"]["author"]) == (
        "not_affected",
        True,
        "Aqua Security",
    )
    assert statement["document"]["delivery"] == Delivery.objects.get(source="vex").pk
    (row,) = imports["results"]
    assert (row["format"], row["statement_count"], row["superseded"]) == ("openvex", 7, False)


def test_the_api_answers_404_for_an_unknown_finding():
    api = APIClient()
    api.force_authenticate(viewer("reader"))
    response = api.get("/api/v1/findings/999999/vex-statements/")
    assert response.status_code == 404
    assert response.json()["error"]


def test_the_delivery_page_shows_the_document_it_brought(reader_client):
    vex_receive(vex_body("csaf/oasis_sec-vex-2022-0001.json"))
    delivery = Delivery.objects.get()

    page = reader_client.get(f"/deliveries/{delivery.pk}/").content.decode()

    assert "VEX document" in page and "SEC-VEX-2022-0001" in page and "Secvisogram" in page


def test_the_admin_lists_the_imports_read_only(client, django_user_model):
    vex_receive(vex_body("csaf/oasis_sec-vex-2022-0001.json"))
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "x"))

    listing = client.get("/admin/findings/veximport/")
    row = client.get(f"/admin/findings/veximport/{Delivery.objects.get().vex_import.pk}/change/")

    assert listing.status_code == 200 and "SEC-VEX-2022-0001" in listing.content.decode()
    assert row.status_code == 200 and "CVE-2021-44228" in row.content.decode()
    assert client.get("/admin/findings/veximport/add/").status_code == 403
