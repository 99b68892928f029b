"""Aqua Platform (SaaS) sign-in against a fake that follows the published contracts
(see tests/fake_aqua_saas.py): API key + HMAC-signed token, SaaS user sign-in, caching,
refresh on 401."""

from __future__ import annotations

import json
import logging
import time

import pytest

from remediator.core.errors import ProviderError
from remediator.integrations.aqua import auth as aqua_auth
from remediator.integrations.aqua.client import AquaClient, AquaImage, AquaIssue

from ..fake_aqua_saas import API_KEY, API_SECRET, PASSWORD, FakeAquaSaas
from .conftest import audit_dump

pytestmark = pytest.mark.django_db


@pytest.fixture
def saas(aqua_saas: FakeAquaSaas) -> FakeAquaSaas:
    return aqua_saas


def assert_nothing_secret_recorded(fake: FakeAquaSaas, logged: str = "") -> None:
    """No secret, password, token or signature in the audit trail or the log."""
    signatures = [
        r.headers["X-Signature"] for r, _ in fake.server.log if "X-Signature" in r.headers
    ]
    recorded = audit_dump()
    for secret in (API_SECRET, PASSWORD, *fake.issued, *signatures):
        assert secret not in recorded
        assert secret not in logged


def test_api_key_token_is_signed_and_used_for_rescan_disallow_allow_acknowledge(saas, caplog):
    caplog.set_level(logging.DEBUG)
    client = AquaClient()
    image = AquaImage("Docker Hub", "library/nginx", "1.27")

    client.rescan("docker.io", "library/nginx", "1.27")
    client.disallow([image], "rebuild failed")
    client.allow([image], "fixed")
    client.acknowledge(
        [AquaIssue("library/nginx:1.27", "docker.io", "CVE-2023-1234", "openssl", "1.1.1")],
        "accepted",
    )

    assert saas.refused == []
    assert len(saas.issued) == 1  # one signed token request, reused for all four calls
    assert [path for path, _, _ in saas.calls] == [
        "/api/v1/images/rescan",
        "/api/v1/images/disallow",
        "/api/v1/images/allow",
        "/api/v2/risks/acknowledge",
    ]
    assert {token for _, token, _ in saas.calls} == {saas.issued[0]}
    assert saas.calls[1][2]["images"] == [
        {"registry": "Docker Hub", "repository": "library/nginx", "tag": "1.27"}
    ]
    token_request = next(r for r, _ in saas.server.log if r.path == "/v2/tokens")
    assert json.loads(token_request.get_data()) == {"validity": 240, "allowed_endpoints": ["ANY"]}
    assert token_request.headers["X-API-Key"] == API_KEY
    assert_nothing_secret_recorded(saas, caplog.text)


def test_a_wrong_secret_is_refused_by_the_signature_check(saas, monkeypatch):
    monkeypatch.setenv("AQUA_API_SECRET", "not-the-secret")

    with pytest.raises(ProviderError) as caught:
        AquaClient().rescan("docker.io", "library/nginx", "1.27")

    assert caught.value.permanent
    assert saas.refused == ["invalid signature"]
    assert saas.calls == []
    assert "not-the-secret" not in str(caught.value)


def test_a_stale_timestamp_is_refused(saas, monkeypatch):
    monkeypatch.setattr(aqua_auth, "clock", lambda: time.time() - 3600)

    with pytest.raises(ProviderError):
        AquaClient().rescan("docker.io", "library/nginx", "1.27")

    assert saas.refused == ["timestamp out of range"]


def test_secrets_are_read_from_files(saas, monkeypatch, tmp_path):
    (tmp_path / "secret").write_text(API_SECRET + "\n")
    monkeypatch.delenv("AQUA_API_SECRET")
    monkeypatch.setenv("AQUA_API_SECRET_FILE", str(tmp_path / "secret"))

    AquaClient().rescan("docker.io", "library/nginx", "1.27")

    assert saas.refused == []
    assert len(saas.calls) == 1


def test_the_token_is_cached_across_clients_until_it_nearly_expires(saas, monkeypatch):
    AquaClient().rescan("docker.io", "library/nginx", "1")
    AquaClient().rescan("docker.io", "library/nginx", "2")
    assert len(saas.issued) == 1

    later = 240 * 60 - aqua_auth.REFRESH_MARGIN_SECONDS + 1
    monkeypatch.setattr(aqua_auth, "clock", lambda: time.time() + later)
    saas.max_skew = later + 60  # the fake lets this test's clock run ahead
    AquaClient().rescan("docker.io", "library/nginx", "3")

    assert len(saas.issued) == 2
    assert saas.calls[-1][1] == saas.issued[1]


def test_a_401_fetches_a_fresh_token_once(saas):
    client = AquaClient()
    client.rescan("docker.io", "library/nginx", "1")
    saas.revoked.add(saas.issued[0])

    client.rescan("docker.io", "library/nginx", "2")

    assert len(saas.issued) == 2
    assert saas.calls[-1][1] == saas.issued[1]
    assert AquaClient().login(fresh=False) == saas.issued[1]  # the fresh one is cached


def test_a_second_401_is_an_error_not_a_loop(saas):
    client = AquaClient()
    client.rescan("docker.io", "library/nginx", "1")
    saas.revoked.update({"saas-token-1-never-logged", "saas-token-2-never-logged"})

    with pytest.raises(ProviderError) as caught:
        client.rescan("docker.io", "library/nginx", "2")

    assert caught.value.status == 401
    assert len(saas.issued) == 2


def test_saas_username_and_password_sign_in(saas, settings, monkeypatch):
    monkeypatch.delenv("AQUA_API_KEY")
    monkeypatch.delenv("AQUA_API_SECRET")
    settings.AQUA_USERNAME = "remediator@example.com"
    settings.AQUA_PASSWORD = PASSWORD
    client = AquaClient()

    client.rescan("docker.io", "library/nginx", "1.27")
    client.disallow([AquaImage("Docker Hub", "library/nginx", "1.27")], "risky")

    assert [r.path for r, _ in saas.server.log].count("/v2/signin") == 1
    assert [path for path, _, _ in saas.calls] == [
        "/api/v1/images/rescan",
        "/api/v1/images/disallow",
    ]
    assert_nothing_secret_recorded(saas)


def test_saas_sign_in_with_a_wrong_password_is_permanent(saas, settings, monkeypatch):
    monkeypatch.delenv("AQUA_API_KEY")
    monkeypatch.delenv("AQUA_API_SECRET")
    settings.AQUA_USERNAME = "remediator@example.com"
    settings.AQUA_PASSWORD = "wrong"

    with pytest.raises(ProviderError) as caught:
        AquaClient().rescan("docker.io", "library/nginx", "1.27")

    assert caught.value.permanent
    assert saas.refused == ["invalid credentials"]


def test_api_key_without_auth_url_is_a_configuration_error(saas, settings):
    settings.AQUA_AUTH_URL = ""
    with pytest.raises(ProviderError) as caught:
        AquaClient().rescan("docker.io", "library/nginx", "1.27")
    assert caught.value.permanent
    assert "AQUA_AUTH_URL" in str(caught.value)
    assert saas.server.log == []


def test_mode_is_chosen_by_settings(saas, settings, monkeypatch):
    assert aqua_auth.aqua_auth_from_settings().mode == "api_key"
    monkeypatch.delenv("AQUA_API_KEY")
    monkeypatch.delenv("AQUA_API_SECRET")
    assert aqua_auth.aqua_auth_from_settings().mode == "saas_signin"
    settings.AQUA_AUTH_URL = ""
    assert aqua_auth.aqua_auth_from_settings().mode == "login"
    assert API_SECRET not in repr(aqua_auth.aqua_auth_from_settings())
