"""POST /api/v1/webhooks/vex/: stored raw, checked, 202 and processed by a worker; a
malformed or non-VEX body is answered 400/422 with a JSON error and kept rejected."""

from __future__ import annotations

import pytest

from findings.models import Delivery, VexImport, VexStatement
from remediator.intake.tasks import delivery_process_task
from tests.waiting import wait_for

from .conftest import vex_body
from .malformed import MALFORMED

URL = "/api/v1/webhooks/vex/"


@pytest.mark.django_db
def test_a_csaf_document_is_accepted_then_imported_by_the_worker(post):
    response = post(URL, vex_body("csaf/oasis_2022-evd-uc-02-na-001.json"))

    assert response.status_code == 202, response.content
    delivery = Delivery.objects.get(pk=response.json()["delivery"])
    assert (delivery.source, delivery.status) == ("vex", "queued")
    assert not VexImport.objects.exists()

    assert delivery_process_task.apply(args=[delivery.pk]).get() == "processed"
    row = VexImport.objects.get()
    assert (row.document_id, row.statement_count, row.delivery_id) == (
        "2022-EVD-UC-02-NA-001",
        19,
        delivery.pk,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "code", "error"),
    [
        ("truncated", 400, "invalid_body"),
        ("not_vex", 422, "invalid_vex"),
        ("openvex_unknown_status", 422, "invalid_vex"),
        ("csaf_without_product_tree", 422, "invalid_vex"),
        ("cyclonedx_affects_string", 422, "invalid_vex"),
    ],
)
def test_a_bad_body_is_answered_with_a_json_error_and_kept_rejected(post, name, code, error):
    body, message = MALFORMED[name]
    response = post(URL, body)

    assert response.status_code == code
    assert response.json()["error"] == error
    assert message in response.json()["detail"]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.body) == ("rejected", body)
    assert not VexImport.objects.exists() and not VexStatement.objects.exists()


@pytest.mark.django_db
def test_a_post_without_the_secret_is_refused_and_not_stored(post):
    response = post(URL, vex_body("openvex/go_vex_v0.2.0.json"), auth=False)

    assert response.status_code == 401
    assert not Delivery.objects.exists()


@pytest.mark.django_db
def test_a_repeated_document_is_a_noop(post):
    body = vex_body("openvex/go_vex_v0.2.0.json")
    first = post(URL, body)
    again = post(URL, body)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_imports_a_posted_document(celery_live_worker, post):
    response = post(URL, vex_body("openvex/trivy_oci.openvex.json"))

    assert response.status_code == 202
    assert wait_for(lambda: VexImport.objects.filter(statement_count=7).exists())
    assert Delivery.objects.get().status == "processed"
