"""manage.py vex_import FILE|URL: imported here and now, a JSON summary printed; a bad
document exits 1 with the reason, its delivery kept rejected."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from findings.models import Delivery, VexImport

from .conftest import VEX, vex_body
from .malformed import MALFORMED

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict:
    out = StringIO()
    call_command("vex_import", *args, stdout=out)
    return json.loads(out.getvalue())


def test_a_file_is_imported_and_its_matches_counted(busybox):
    summary = run(str(VEX / "openvex/trivy_oci.openvex.json"), "--source-name", "trivy-repo")

    assert summary["statements"] == 7
    assert summary["matched_findings"] == 1
    assert (summary["format"], summary["author"], summary["superseded"]) == (
        "openvex",
        "Aqua Security",
        False,
    )
    delivery = Delivery.objects.get(source="vex")
    assert (delivery.source, delivery.channel, delivery.headers["source_name"]) == (
        "vex",
        "cli",
        "trivy-repo",
    )


def test_a_url_is_downloaded_through_the_http_client(httpserver, go_transitive):
    httpserver.expect_request("/advisories/csaf.json").respond_with_data(
        vex_body("csaf/trivy_csaf.json"), content_type="application/json"
    )
    url = httpserver.url_for("/advisories/csaf.json")

    summary = run(url)

    assert (summary["format"], summary["statements"], summary["matched_findings"]) == ("csaf", 1, 1)
    assert Delivery.objects.get(source="vex").headers["fetched_from"] == url


def test_a_url_larger_than_the_bound_is_refused_before_anything_is_stored(httpserver, settings):
    settings.VEX_FETCH_MAX_BYTES = 1000
    httpserver.expect_request("/big.json").respond_with_data(vex_body("csaf/trivy_csaf.json"))

    with pytest.raises(CommandError, match="larger than 1000 bytes"):
        run(httpserver.url_for("/big.json"))
    assert not Delivery.objects.exists()


def test_a_url_that_answers_an_error_is_refused(httpserver):
    httpserver.expect_request("/gone.json").respond_with_data("gone", status=404)

    with pytest.raises(CommandError, match="answered 404"):
        run(httpserver.url_for("/gone.json"))


def test_a_bad_document_exits_1_with_the_reason(tmp_path, capsys):
    body, message = MALFORMED["csaf_without_product_tree"]
    path = tmp_path / "bad.json"
    path.write_bytes(body)
    err = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("vex_import", str(path), stderr=err)

    assert exited.value.code == 1
    assert message in err.getvalue()
    assert Delivery.objects.get().status == "rejected"
    assert not VexImport.objects.exists()
