"""The new endpoints: justifications validated, investigations, the image's VEX and
ignore files, the VEX repository's credentials. Bad input is a 4xx with a JSON body."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.engine.models import AuditEvent
from remediator.engine.services.risk import finding_accept_risk, finding_mark_false_positive
from tests.engine.factories import digest, ingest, vuln

from .conftest import client_for, valid_openvex

pytestmark = pytest.mark.django_db
DIGEST = "sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"


def test_an_unknown_justification_is_a_400_and_changes_nothing(alpine, people):
    finding = alpine["libcrypto3"]
    answer = client_for(people["alice"]).post(
        f"/api/v1/findings/{finding.pk}/false-positive/",
        {"reason": "x", "justification": "trust_me"},
        format="json",
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid" and "justification" in answer.json()["detail"]
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_a_justification_is_kept_and_decided_at_set_then_cleared(alpine, people):
    finding = alpine["libcrypto3"]
    client = client_for(people["alice"])
    answer = client.post(
        f"/api/v1/findings/{finding.pk}/false-positive/",
        {"reason": "not built in", "justification": "vulnerable_code_not_present"},
        format="json",
    )
    assert answer.status_code == 200
    finding.refresh_from_db()
    assert finding.vex_justification == "vulnerable_code_not_present"
    assert finding.decided_at is not None
    event = AuditEvent.objects.filter(kind="finding").first()
    assert event.data["justification"] == "vulnerable_code_not_present"

    client.post(f"/api/v1/findings/{finding.pk}/reopen/", {}, format="json")
    finding.refresh_from_db()
    assert (finding.status, finding.vex_justification, finding.decided_at) == ("open", "", None)


def test_investigation_keeps_the_finding_open_and_any_decision_ends_it(alpine, people):
    finding = alpine["libssl3"]
    client = client_for(people["bob"])
    url = f"/api/v1/findings/{finding.pk}/investigate/"

    assert client.post(url, {"reason": "  "}, format="json").status_code == 400
    started = client.post(url, {"reason": "does the service parse X.509?"}, format="json")
    assert started.status_code == 200 and started.json()["status"] == "open"
    finding.refresh_from_db()
    assert finding.investigating_since is not None
    assert finding.status_reason == "does the service parse X.509?"
    event = AuditEvent.objects.filter(kind="finding").first()
    assert (event.from_state, event.to_state, event.actor) == (
        "open",
        "investigating",
        people["bob"],
    )

    client.post(f"/api/v1/findings/{finding.pk}/accept/", {"reason": "ok for now"}, format="json")
    finding.refresh_from_db()
    assert finding.investigating_since is None and finding.status == "accepted"
    again = client.post(url, {"reason": "again"}, format="json")
    assert again.status_code == 409 and again.json()["error"] == "wrong_state"
    stop = client.post(f"/api/v1/findings/{finding.pk}/stop-investigating/", {}, format="json")
    assert stop.status_code == 409


def test_a_viewer_cannot_investigate_and_unknown_findings_are_404(alpine, people):
    finding = alpine["libssl3"]
    viewer = client_for(people["vera"])
    assert (
        viewer.post(
            f"/api/v1/findings/{finding.pk}/investigate/", {"reason": "x"}, format="json"
        ).status_code
        == 403
    )
    missing = client_for(people["alice"]).post(
        "/api/v1/findings/999999/investigate/", {"reason": "x"}, format="json"
    )
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_a_fix_ends_the_investigation_and_the_fixing_digest_says_fixed(people, engine_settings):
    first = ingest(vuln(), tag="1.4", digest_no=1)
    finding = Finding.objects.get()
    client_for(people["alice"]).post(
        f"/api/v1/findings/{finding.pk}/investigate/", {"reason": "maybe"}, format="json"
    )
    ingest(tag="1.4", digest_no=2)  # the rebuilt digest no longer has it
    finding.refresh_from_db()
    assert finding.status == "fixed" and finding.investigating_since is None

    repository = first.tag.repository_id
    answer = client_for(people["vera"]).get(
        f"/api/v1/images/{repository}/vex/", {"digest": digest(2)}
    )
    assert answer.status_code == 200, answer.content
    (statement,) = valid_openvex(answer.json())["statements"]
    assert statement["status"] == "fixed"
    assert digest(2) in statement["products"][0]["@id"]
    # the first digest's investigation went away with the fix: nothing left to say
    old = client_for(people["vera"]).get(f"/api/v1/images/{repository}/vex/", {"digest": digest(1)})
    assert old.status_code == 404


def test_image_vex_answers_4xx_with_json(alpine, people):
    viewer = client_for(people["vera"])
    repository = alpine["libssl3"].repository_id
    none_yet = viewer.get(f"/api/v1/images/{repository}/vex/")
    assert none_yet.status_code == 404 and none_yet.json()["error"] == "not_found"
    assert (
        viewer.get(f"/api/v1/images/{repository}/vex/", {"digest": "sha256:zz"}).status_code == 400
    )
    assert (
        viewer.get(
            f"/api/v1/images/{repository}/vex/", {"digest": "sha256:" + "0" * 64}
        ).status_code
        == 404
    )
    assert viewer.get("/api/v1/images/999999/vex/").json()["error"] == "not_found"
    assert viewer.get("/api/v1/images/999999/trivyignore/").status_code == 404
    assert (
        viewer.get(f"/api/v1/images/{repository}/grype-ignore/", {"digest": "x\n"}).status_code
        == 400
    )


def test_image_vex_download_per_digest(alpine, people):
    finding_mark_false_positive(
        finding_id=alpine["libcrypto3"].pk, user=people["alice"], reason="n/a"
    )
    answer = client_for(people["vera"]).get(
        f"/api/v1/images/{alpine['libcrypto3'].repository_id}/vex/", {"digest": DIGEST}
    )

    assert answer.status_code == 200
    assert (
        answer["Content-Disposition"] == 'attachment; filename="alpine-1e42bbe25081.openvex.json"'
    )
    document = valid_openvex(answer.json())
    assert document["@id"].endswith(f"/vex/?digest={DIGEST}")
    assert document["statements"][0]["impact_statement"] == "n/a"


def test_ignore_files_carry_running_acceptances_and_false_positives(alpine, people):
    hostile = "ok'\n# injected: true\nvulnerabilities: []"
    until = timezone.now() + timedelta(days=40)
    finding_accept_risk(
        finding_id=alpine["libssl3"].pk, user=people["alice"], reason=hostile, until=until
    )
    finding_mark_false_positive(
        finding_id=alpine["libcrypto3"].pk,
        user=people["alice"],
        reason="not loaded",
        justification="vulnerable_code_not_in_execute_path",
    )
    viewer = client_for(people["vera"])
    repository = alpine["libssl3"].repository_id

    trivy = viewer.get(f"/api/v1/images/{repository}/trivyignore/")
    assert trivy["Content-Type"].startswith("application/yaml")
    entries = yaml.safe_load(trivy.content)["vulnerabilities"]
    assert entries == [
        {
            "id": "CVE-2024-9143",
            "purls": ["pkg:apk/alpine/libcrypto3@3.3.2-r0"],
            "statement": "False positive, not affected (vulnerable_code_not_in_execute_path) "
            "in Remediator: not loaded",
        },
        {
            "id": "CVE-2024-9143",
            "purls": ["pkg:apk/alpine/libssl3@3.3.2-r0"],
            "statement": f"Risk accepted in Remediator until {until.date().isoformat()}: {hostile}",
            "expired_at": until.date(),
        },
    ]
    grype = yaml.safe_load(viewer.get(f"/api/v1/images/{repository}/grype-ignore/").content)
    assert [rule["package"] for rule in grype["ignore"]] == [
        {"name": "libcrypto3", "version": "3.3.2-r0", "type": "apk"},
        {"name": "libssl3", "version": "3.3.2-r0", "type": "apk"},
    ]
    assert grype["ignore"][1]["vulnerability"] == "CVE-2024-9143"

    # an acceptance past its end is left out, before beat reopens it
    Finding.objects.filter(pk=alpine["libssl3"].pk).update(accepted_until=timezone.now())
    entries = yaml.safe_load(viewer.get(f"/api/v1/images/{repository}/trivyignore/").content)
    assert [e["purls"][0] for e in entries["vulnerabilities"]] == [
        "pkg:apk/alpine/libcrypto3@3.3.2-r0"
    ]


def test_the_repository_token_reads_as_bearer_or_basic(alpine, people, settings):
    settings.VEX_REPOSITORY_TOKEN = "vex-repo-secret-123"
    path = "/api/v1/vex-repository/0.1/index.json"
    client = APIClient()

    nobody = client.get(path)
    assert nobody.status_code == 401 and nobody["WWW-Authenticate"].startswith("Bearer")
    assert client.get(path, HTTP_AUTHORIZATION="Bearer vex-repo-secret-123").status_code == 200
    basic = base64.b64encode(b"trivy:vex-repo-secret-123").decode()
    assert client.get(path, HTTP_AUTHORIZATION=f"Basic {basic}").status_code == 200
    assert client.get(path, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get(path, HTTP_AUTHORIZATION="Basic !!!").status_code == 401
    # a user's API token as the Basic password: that user's role decides
    for name, expected in (("vera", 200), ("nora", 403)):
        key = Token.objects.create(user=people[name]).key
        login = base64.b64encode(f"{name}:{key}".encode()).decode()
        assert client.get(path, HTTP_AUTHORIZATION=f"Basic {login}").status_code == expected
    # the repository token reads the repository, not the rest of the API
    assert (
        client.get("/api/v1/findings/", HTTP_AUTHORIZATION="Bearer vex-repo-secret-123").status_code
        == 401
    )


def test_the_manifest_names_the_archive_under_base_url(people, settings):
    settings.VEX_REPOSITORY_UPDATE_INTERVAL = "30m"
    manifest = client_for(people["vera"]).get("/.well-known/vex-repository.json").json()

    (version,) = manifest["versions"]
    assert version == {
        "spec_version": "0.1",
        "locations": [
            {
                "url": "https://remediator.example.com/api/v1/vex-repository/0.1/vex-repository.tar.gz"
            }
        ],
        "update_interval": "30m",
    }


def test_an_empty_repository_archive_is_still_an_archive(people):
    client = client_for(people["vera"])
    assert client.get("/api/v1/vex-repository/0.1/index.json").json()["packages"] == []
    archive = client.get("/api/v1/vex-repository/0.1/vex-repository.tar.gz")
    assert archive.status_code == 200 and archive.content[:2] == b"\x1f\x8b"
    assert client.get("/api/v1/vex-repository/0.1/pkg/oci/x/vex.json").status_code == 404


def test_bulk_not_affected_takes_a_justification_and_issues_one_version(
    alpine, people, django_capture_on_commit_callbacks
):
    ids = [alpine["libcrypto3"].pk, alpine["libssl3"].pk]
    client = client_for(people["alice"])
    bad = client.post(
        "/api/v1/findings/bulk/",
        {"operation": "false_positive", "ids": ids, "reason": "x", "justification": "nope"},
        format="json",
    )
    assert bad.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/api/v1/findings/bulk/",
            {
                "operation": "false_positive",
                "ids": ids,
                "reason": "the OpenSSL CLI is not shipped",
                "justification": "component_not_present",
            },
            format="json",
        )
    assert done.json()["done"] == 2
    assert set(Finding.objects.filter(pk__in=ids).values_list("vex_justification", flat=True)) == {
        "component_not_present"
    }
    document = client_for(people["vera"]).get(
        f"/api/v1/images/{alpine['libssl3'].repository_id}/vex/"
    )
    assert document.json()["version"] == 1
    assert [s["justification"] for s in document.json()["statements"]] == [
        "component_not_present",
        "component_not_present",
    ]
