"""The read API: who may read, what each list returns, and its filters."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from findings.models import Finding, Repository

from .conftest import ingest

pytestmark = pytest.mark.django_db
ALPINE = "trivy/trivy_docs_reporting_alpine_latest.json"  # docker.io/library/alpine, 2 findings
ALPINE39 = "trivy/trivy_alpine-39.json"  # ghcr.io/aquasecurity/trivy-test-images:alpine-39, 6
LISTS = ["images", "scans", "findings", "vulnerabilities", "deliveries"]


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_is_refused(name):
    response = APIClient().get(f"/api/v1/{name}/")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("name", LISTS)
def test_token_auth_reads(name, token):
    client = APIClient()
    assert client.get(f"/api/v1/{name}/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert client.get(f"/api/v1/{name}/", HTTP_AUTHORIZATION="Token wrong").status_code == 401


def test_session_auth_reads(reader):
    client = APIClient()
    # the sign-in page takes a form (axes needs the request); the API's test default is JSON
    client.post("/login/", {"username": "reader", "password": "x"}, format="multipart")
    assert client.get("/api/v1/findings/").status_code == 200


def test_images_show_tags_digests_open_counts_and_last_scan(api):
    scan = ingest(ALPINE)

    [image] = api.get("/api/v1/images/").json()["results"]

    assert image["image"] == "docker.io/library/alpine"
    assert image["tags"][0]["name"] == "latest"
    assert image["tags"][0]["digest"].startswith("sha256:1e42bbe2")
    assert image["open_findings"]["total"] == 2
    assert image["last_scan"]["id"] == scan.pk
    detail = api.get(f"/api/v1/images/{image['id']}/").json()
    assert detail["open_findings"] == image["open_findings"]


def test_images_filter_by_name_with_or_without_registry(api):
    ingest(ALPINE)
    ingest(ALPINE39)
    for text in ("alpine", "library/alpine", "docker.io/library/alpine"):
        names = [i["image"] for i in api.get(f"/api/v1/images/?image={text}").json()["results"]]
        assert names == ["docker.io/library/alpine"]


def test_scans_list_and_filters(api):
    alpine = ingest(ALPINE)
    other = ingest(ALPINE39)

    def ids(query: str) -> list[int]:
        return [s["id"] for s in api.get(f"/api/v1/scans/{query}").json()["results"]]

    assert ids("") == [other.pk, alpine.pk]
    assert ids("?image=alpine") == [alpine.pk]
    assert ids("?image=ghcr.io/aquasecurity/trivy-test-images") == [other.pk]
    assert ids("?tag=alpine-39") == [other.pk]
    assert ids("?source=grype") == []
    assert ids("?since=2999-01-01") == []
    detail = api.get(f"/api/v1/scans/{alpine.pk}/").json()
    assert detail["findings_count"] == 2 and detail["image"] == "docker.io/library/alpine:latest"


def test_findings_have_the_documented_fields(api):
    ingest(ALPINE)
    finding = api.get("/api/v1/findings/").json()["results"][0]
    for field in (
        "id", "vulnerability_id", "severity", "package", "package_type", "installed_version",
        "fixed_version", "status", "image", "first_seen", "last_seen", "locations",
    ):  # fmt: skip
        assert field in finding
    assert finding["image"] == "docker.io/library/alpine:latest"


def test_findings_filters(api):
    alpine = ingest(ALPINE)
    ingest(ALPINE39)
    total = Finding.objects.count()

    def count(query: str) -> int:
        return len(api.get(f"/api/v1/findings/?page_size=500&{query}").json()["results"])

    severities = list(Finding.objects.values_list("severity", flat=True).distinct())
    first = severities[0]
    assert count("") == total == 8
    assert count(f"severity={first}") == Finding.objects.filter(severity=first).count()
    both = Finding.objects.filter(severity__in=["critical", "high"]).count()
    assert count("severity=critical&severity=high") == count("severity=critical,high") == both
    assert count("status=open") == total and count("status=fixed") == 0
    assert count("fixable=true") == Finding.objects.filter(fixable=True).count()
    assert count("image=alpine") == count("image=docker.io/library/alpine") == 2
    assert count(f"scan={alpine.pk}") == 2
    one = Finding.objects.filter(tag__repository__name="library/alpine").first()
    assert count(f"package={one.package}") >= 1
    assert count(f"vulnerability={one.vulnerability_id}") >= 1
    assert count("since=2999-01-01") == 0 and count("since=2000-01-01T00:00:00Z") == total


def test_unknown_severity_is_a_400(api):
    response = api.get("/api/v1/findings/?severity=dreadful")
    assert response.status_code == 400 and response.json()["error"] == "invalid"


def test_queries_per_findings_page_do_not_grow_with_findings(api, django_assert_max_num_queries):
    ingest(ALPINE)
    with django_assert_max_num_queries(6) as few:
        api.get("/api/v1/findings/")
    ingest("trivy/trivy_ubuntu-1804.json")
    ingest(ALPINE39)
    with django_assert_max_num_queries(len(few.captured_queries)):
        api.get("/api/v1/findings/")
    with django_assert_max_num_queries(8):
        api.get("/api/v1/images/")
    with django_assert_max_num_queries(6):
        api.get("/api/v1/scans/")
    with django_assert_max_num_queries(6):
        api.get("/api/v1/deliveries/")


def test_pages_follow_a_cursor(api):
    ingest(ALPINE39)
    page = api.get("/api/v1/findings/?page_size=4").json()
    rest = api.get(page["next"]).json()
    assert len(page["results"]) == 4 and len(rest["results"]) == 2 and rest["next"] is None


def test_vulnerability_detail_lists_affected_images(api):
    ingest(ALPINE)
    finding = Finding.objects.first()

    detail = api.get(f"/api/v1/vulnerabilities/{finding.vulnerability_id}/").json()

    assert detail["id"] == finding.vulnerability_id and "cvss_score" in detail
    assert "links" in detail and "description" in detail
    [affected] = detail["affected_images"]
    assert affected["image"] == "docker.io/library/alpine" and affected["tags"] == ["latest"]
    assert affected["repository"] == Repository.objects.get().pk
    assert api.get("/api/v1/vulnerabilities/CVE-0000-0000/").status_code == 404


def test_deliveries_list_without_body_and_detail_with_capped_preview(api, staff_api, settings):
    settings.DELIVERY_BODY_PREVIEW_BYTES = 100
    scan = ingest(ALPINE)

    [listed] = api.get("/api/v1/deliveries/").json()["results"]
    detail = staff_api.get(f"/api/v1/deliveries/{listed['id']}/").json()

    assert listed["status"] == "processed" and listed["scan"] == scan.pk
    assert "body_preview" not in listed
    assert len(detail["body_preview"]) == 100 and detail["body_truncated"] is True
    assert api.get("/api/v1/deliveries/?status=rejected,ignored").json()["results"] == []


def test_schema_and_docs_are_served(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    for path in (
        "/api/v1/webhooks/{source}/", "/api/v1/webhooks/{source}/{secret}/", "/api/v1/images/",
        "/api/v1/images/{id}/", "/api/v1/scans/", "/api/v1/findings/",
        "/api/v1/vulnerabilities/{id}/", "/api/v1/deliveries/{id}/reprocess/",
    ):  # fmt: skip
        assert path in schema["paths"]
    responses = schema["paths"]["/api/v1/webhooks/{source}/"]["post"]["responses"]
    assert {"202", "400", "401", "403", "413", "422"} <= set(responses)
    assert api.get("/api/v1/docs/").status_code == 200
