from __future__ import annotations

import pytest

from remediator.core.errors import ProviderError
from remediator.integrations.aqua.client import AquaClient, AquaImage, AquaIssue

from .conftest import audit_dump

pytestmark = pytest.mark.django_db

PASSWORD = "aqua-Pa55word-never-logged"
TOKEN_1 = "eyJhbGciOiJIUzI1NiJ9.first-token"
TOKEN_2 = "eyJhbGciOiJIUzI1NiJ9.second-token"


@pytest.fixture
def aqua_settings(settings, httpserver):
    settings.AQUA_URL = httpserver.url_for("").rstrip("/")
    settings.AQUA_USERNAME = "remediator"
    settings.AQUA_PASSWORD = PASSWORD
    settings.AQUA_REGISTRY_NAMES = {"registry.example.com": "corp"}
    return settings


@pytest.fixture
def aqua(aqua_settings):
    return AquaClient()


def login_answers(httpserver, token):
    httpserver.expect_oneshot_request("/api/v1/login", method="POST").respond_with_json(
        {"token": token, "user": {"id": "remediator"}}
    )


def test_rescan_logs_in_and_sends_the_image_under_its_aqua_registry_name(httpserver, aqua):
    login_answers(httpserver, TOKEN_1)
    httpserver.expect_oneshot_request(
        "/api/v1/images/rescan", method="POST", headers={"Authorization": f"Bearer {TOKEN_1}"}
    ).respond_with_data("", status=204)

    aqua.rescan("docker.io", "library/nginx", "1.27", full=True)

    login = httpserver.log[0][0].get_json()
    assert login == {"id": "remediator", "password": PASSWORD}
    assert httpserver.log[1][0].get_json() == {
        "full_rescan": True,
        "images": [{"registry": "Docker Hub", "repository": "library/nginx", "tag": "1.27"}],
    }
    assert PASSWORD not in audit_dump()
    assert TOKEN_1 not in audit_dump()


def test_expired_token_is_refreshed_once(httpserver, aqua):
    login_answers(httpserver, TOKEN_1)
    httpserver.expect_oneshot_request(
        "/api/v1/images/rescan", headers={"Authorization": f"Bearer {TOKEN_1}"}
    ).respond_with_json({"message": "token expired"}, status=401)
    login_answers(httpserver, TOKEN_2)
    httpserver.expect_oneshot_request(
        "/api/v1/images/rescan", headers={"Authorization": f"Bearer {TOKEN_2}"}
    ).respond_with_data("", status=201)

    aqua.rescan("registry.example.com", "acme/api", "1.4")

    paths = [r.path for r, _ in httpserver.log]
    assert paths == ["/api/v1/login", "/api/v1/images/rescan"] * 2
    assert httpserver.log[3][0].get_json()["images"][0]["registry"] == "corp"
    assert aqua.token == TOKEN_2


def test_token_is_reused_between_calls(httpserver, aqua):
    login_answers(httpserver, TOKEN_1)
    httpserver.expect_request("/api/v1/images/rescan").respond_with_data("", status=204)

    aqua.rescan("ghcr.io", "acme/api", "1")
    aqua.rescan("ghcr.io", "acme/api", "2")

    assert [r.path for r, _ in httpserver.log].count("/api/v1/login") == 1
    assert httpserver.log[1][0].get_json()["images"][0]["registry"] == "ghcr.io"


@pytest.mark.parametrize("verb", ["disallow", "allow"])
def test_disallow_and_allow_send_comment_and_images(httpserver, aqua, verb):
    login_answers(httpserver, TOKEN_1)
    httpserver.expect_oneshot_request(f"/api/v1/images/{verb}", method="POST").respond_with_data(
        "", status=204
    )
    images = [
        AquaImage.of("registry.example.com", "acme/api", "1.4"),
        AquaImage("Docker Hub", "library/nginx", "1.27"),
    ]

    getattr(aqua, verb)(images, "Remediator action 42: rebuild failed")

    assert httpserver.log[1][0].get_json() == {
        "comment": "Remediator action 42: rebuild failed",
        "images": [
            {"registry": "corp", "repository": "acme/api", "tag": "1.4"},
            {"registry": "Docker Hub", "repository": "library/nginx", "tag": "1.27"},
        ],
    }


def test_acknowledge_sends_issues_with_expiry(httpserver, aqua):
    login_answers(httpserver, TOKEN_1)
    httpserver.expect_oneshot_request("/api/v2/risks/acknowledge", method="POST").respond_with_data(
        "", status=200
    )
    issue = AquaIssue(
        image_name="acme/api:1.4",
        registry_name="registry.example.com",
        issue_name="CVE-2024-6119",
        resource_name="openssl",
        resource_version="3.3.1-r0",
        resource_format="apk",
        fix_version="3.3.2-r0",
    )

    aqua.acknowledge([issue], "accepted until the base image moves", expiration_days=30)

    body = httpserver.log[1][0].get_json()
    assert body["comment"] == "accepted until the base image moves"
    (row,) = body["issues"]
    assert row["issue_type"] == "vulnerability"
    assert row["resource_type"] == "package"
    assert row["registry_name"] == "corp"
    assert row["image_name"] == "acme/api:1.4"
    assert row["issue_name"] == "CVE-2024-6119"
    assert row["resource_name"] == "openssl"
    assert row["resource_version"] == "3.3.1-r0"
    assert row["fix_version"] == "3.3.2-r0"
    assert row["expiration_days"] == 30


def test_wrong_password_is_permanent(httpserver, aqua):
    httpserver.expect_oneshot_request("/api/v1/login").respond_with_json(
        {"message": "Invalid credentials"}, status=401
    )
    with pytest.raises(ProviderError) as caught:
        aqua.rescan("docker.io", "library/nginx", "1.27")
    assert caught.value.permanent
    assert PASSWORD not in str(caught.value)


def test_configured_follows_aqua_url(settings, aqua_settings):
    assert AquaClient.configured()
    settings.AQUA_URL = ""
    assert not AquaClient.configured()
    with pytest.raises(ProviderError) as caught:
        AquaClient()
    assert "AQUA_URL" in str(caught.value)


def test_ping_logs_in(httpserver, aqua):
    login_answers(httpserver, TOKEN_1)
    assert aqua.ping() == ""
