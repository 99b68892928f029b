"""The round trip (issue 22, Must show): a person marks a finding not affected through
the API -> the VEX repository's manifest -> its archive -> index.json names the image
repository by the purl Trivy looks up -> vex.json carries a statement naming the digest
and the CVE -> Trivy's documented matching (tests/vex/trivy_rules.py) applied to the
Trivy report of that very image filters that finding and no other; then an acceptance
expires and the re-issued document no longer carries it."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from remediator.engine.services.risk import accepted_risks_expire

from . import trivy_rules
from .conftest import ALPINE_REPORT, INDEX, MANIFEST, client_for, valid_openvex

pytestmark = pytest.mark.django_db
REPORT = json.loads(ALPINE_REPORT.read_text())
LIBCRYPTO = "pkg:apk/alpine/libcrypto3@3.3.2-r0?arch=aarch64&distro=3.20.3"
LIBSSL = "pkg:apk/alpine/libssl3@3.3.2-r0?arch=aarch64&distro=3.20.3"


def trivy_client(user) -> APIClient:
    """As Trivy calls a repository configured with ``token:`` (Bearer)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.get_or_create(user=user)[0].key}")
    return client


def download(client: APIClient) -> tuple[dict, dict[str, dict]]:
    """What Trivy does: read the manifest, pick spec 0.1, fetch its location, unpack."""
    manifest = client.get("/.well-known/vex-repository.json")
    assert manifest.status_code == 200, manifest.content
    assert not list(MANIFEST.iter_errors(manifest.json()))
    (version,) = [v for v in manifest.json()["versions"] if v["spec_version"] == "0.1"]
    assert version["update_interval"] == "1h"
    url = urlsplit(version["locations"][0]["url"])
    assert url.path.endswith(".tar.gz")  # go-getter unpacks by the extension
    archive = client.get(url.path)
    assert archive.status_code == 200 and archive["Content-Type"] == "application/gzip"
    files = {}
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        for member in tar.getmembers():
            files[member.name] = json.load(tar.extractfile(member))
    index = files.pop("index.json")
    return index, files


def valid_index(index: dict) -> dict:
    # The spec's index schema, but for packages[].id: its pattern rejects every OCI purl
    # with a one-segment name (the spec README's own pkg:oci/debian example included);
    # the id is checked against Trivy's lookup key below instead.
    schema = json.loads(json.dumps(INDEX.schema))
    del schema["properties"]["packages"]["items"]["properties"]["id"]["pattern"]
    assert not list(INDEX.__class__(schema, format_checker=INDEX.FORMAT_CHECKER).iter_errors(index))
    return index


def test_not_affected_reaches_trivy_through_the_vex_repository(
    alpine, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        decided = client_for(people["alice"]).post(
            f"/api/v1/findings/{alpine['libcrypto3'].pk}/false-positive/",
            {
                "reason": "the FIPS provider is not loaded",
                "justification": "vulnerable_code_not_in_execute_path",
            },
            format="json",
        )
    assert decided.status_code == 200, decided.content

    index, documents = download(trivy_client(people["vera"]))

    valid_index(index)
    key = trivy_rules.index_key(trivy_rules.root_purl(REPORT["Metadata"]))
    assert key == "pkg:oci/alpine?repository_url=index.docker.io%2Flibrary%2Falpine"
    (entry,) = index["packages"]
    assert entry == {
        "id": key,
        "location": "pkg/oci/index.docker.io/library/alpine/vex.json",
        "format": "openvex",
    }
    document = valid_openvex(documents[entry["location"]])
    (statement,) = document["statements"]
    digest = REPORT["Metadata"]["RepoDigests"][0].split("@", 1)[1]
    assert statement["vulnerability"]["name"] == "CVE-2024-9143"
    assert digest in statement["products"][0]["@id"]
    assert statement["status"] == "not_affected"
    assert trivy_rules.filtered(REPORT, index, documents) == {("CVE-2024-9143", LIBCRYPTO)}
    # the same CVE in libssl3, and the product without its package, stay reported
    root = trivy_rules.root_purl(REPORT["Metadata"])
    assert not trivy_rules.not_affected(document, "CVE-2024-9143", root, LIBSSL)
    assert not trivy_rules.not_affected(document, "CVE-2024-9144", root, LIBCRYPTO)

    # unpacked copies for people, the same as in the archive
    viewer = client_for(people["vera"])
    assert viewer.get("/api/v1/vex-repository/0.1/index.json").json() == index
    assert viewer.get(f"/api/v1/vex-repository/0.1/{entry['location']}").json() == document

    # an acceptance that expires: carried as affected (not filtered), then re-issued without
    until = timezone.now() + timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people["bob"]).post(
            f"/api/v1/findings/{alpine['libssl3'].pk}/accept/",
            {"reason": "patched image due", "until": until.isoformat()},
            format="json",
        )
    index, documents = download(trivy_client(people["vera"]))
    document = valid_openvex(documents[entry["location"]])
    assert [s["status"] for s in document["statements"]] == ["affected", "not_affected"]
    assert trivy_rules.filtered(REPORT, index, documents) == {("CVE-2024-9143", LIBCRYPTO)}
    accepted_version = document["version"]

    with django_capture_on_commit_callbacks(execute=True):
        accepted_risks_expire(now=until + timedelta(minutes=1))
    index, documents = download(trivy_client(people["vera"]))
    document = valid_openvex(documents[entry["location"]])

    assert document["version"] == accepted_version + 1
    assert [s["status"] for s in document["statements"]] == ["not_affected"]
    assert trivy_rules.filtered(REPORT, index, documents) == {("CVE-2024-9143", LIBCRYPTO)}


def test_the_archive_answers_if_none_match_and_changes_with_a_decision(
    alpine, people, django_capture_on_commit_callbacks
):
    client = trivy_client(people["vera"])
    with django_capture_on_commit_callbacks(execute=True):
        client_for(people["alice"]).post(
            f"/api/v1/findings/{alpine['libssl3'].pk}/investigate/",
            {"reason": "reachable?"},
            format="json",
        )
    path = "/api/v1/vex-repository/0.1/vex-repository.tar.gz"
    first = client.get(path)
    again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert client.get(path).content == first.content  # the same bytes, the same ETag

    with django_capture_on_commit_callbacks(execute=True):
        client_for(people["alice"]).post(
            f"/api/v1/findings/{alpine['libcrypto3'].pk}/false-positive/",
            {"reason": "not loaded"},
            format="json",
        )
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
