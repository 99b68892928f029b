"""State, nonce and PKCE enforced; a provider that is down or hangs gives a clear page
within OIDC_TIMEOUT, never a 500."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from .conftest import TEST_SERVER, VIEWERS, provider_walk, sign_in_start


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.fixture
def hank(sso):
    sso.account_set("sub-hank", preferred_username="hank", groups=[VIEWERS])
    return sso


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_authorization_request_carries_state_nonce_and_a_pkce_challenge(hank, client):
    query = parse_qs(urlsplit(sign_in_start(client)).query)

    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["openid email profile groups"]
    state = query["state"][0]
    kept = client.session["oidc_states"][state]
    assert kept["nonce"] == query["nonce"][0] and len(kept["code_verifier"]) >= 43


def test_a_callback_with_a_wrong_state_is_refused(hank, client):
    callback = provider_walk(sign_in_start(client), "sub-hank", TEST_SERVER)

    response = client.get(with_query(callback, state="forged").removeprefix(TEST_SERVER))

    assert response.status_code == 400
    assert b"This sign-in was not started here" in response.content
    assert not signed_in(client)


def test_a_callback_is_used_once(hank, client):
    callback = provider_walk(sign_in_start(client), "sub-hank", TEST_SERVER)
    assert client.get(callback.removeprefix(TEST_SERVER)).status_code == 302
    client.logout()

    again = client.get(callback.removeprefix(TEST_SERVER))

    assert again.status_code == 400 and not signed_in(client)


def test_a_callback_in_another_browser_is_refused(hank, client, django_user_model):
    from django.test import Client

    callback = provider_walk(sign_in_start(client), "sub-hank", TEST_SERVER)

    response = Client().get(callback.removeprefix(TEST_SERVER))

    assert response.status_code == 400
    assert not django_user_model.objects.filter(username="hank").exists()


def _tamper(client, field: str) -> None:
    session = client.session
    for kept in session["oidc_states"].values():
        kept[field] = kept[field][:-4] + "AAAA"
    session.save()


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(hank, client):
    start = sign_in_start(client)
    _tamper(client, "code_verifier")
    callback = provider_walk(start, "sub-hank", TEST_SERVER)

    response = client.get(callback.removeprefix(TEST_SERVER))

    assert response.status_code == 400
    assert b"could not be verified" in response.content and not signed_in(client)


def test_an_authorization_request_without_pkce_is_refused_by_the_provider(hank, client):
    start = sign_in_start(client)
    parts = urlsplit(start)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    del query["code_challenge"], query["code_challenge_method"]
    callback = provider_walk(
        urlunsplit(parts._replace(query=urlencode(query))), "sub-hank", TEST_SERVER
    )
    assert "error=invalid_request" in callback

    response = client.get(callback.removeprefix(TEST_SERVER))

    assert response.status_code == 403 and not signed_in(client)
    assert b"did not sign you in" in response.content


def test_an_id_token_with_another_nonce_is_refused(hank, client):
    start = sign_in_start(client)
    _tamper(client, "nonce")
    callback = provider_walk(start, "sub-hank", TEST_SERVER)

    response = client.get(callback.removeprefix(TEST_SERVER))

    assert response.status_code == 400 and not signed_in(client)


def test_a_provider_that_is_down_gives_a_clear_page(db, settings, client):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.OIDC_DISCOVERY_URL = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    settings.OIDC_CLIENT_ID = "remediator-test"

    response = client.get("/oidc/authenticate/")

    assert response.status_code == 503
    assert b"The identity provider cannot be reached" in response.content


def test_a_provider_that_hangs_gives_a_clear_page_after_the_timeout(db, settings, client):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        settings.OIDC_DISCOVERY_URL = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
        settings.OIDC_CLIENT_ID = "remediator-test"
        settings.OIDC_TIMEOUT = 0.5

        response = client.get("/oidc/authenticate/")

    assert response.status_code == 503
    assert b"did not answer in time" in response.content


def test_a_token_endpoint_that_is_down_gives_a_clear_page(db, settings, client, httpserver):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    issuer = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{dead}/token",
            "userinfo_endpoint": f"{dead}/me",
            "jwks_uri": f"{dead}/jwks",
            "id_token_signing_alg_values_supported": ["RS256"],
        }
    )
    settings.OIDC_DISCOVERY_URL = f"{issuer}/.well-known/openid-configuration"
    settings.OIDC_CLIENT_ID = "remediator-test"
    state = parse_qs(urlsplit(sign_in_start(client)).query)["state"][0]

    response = client.get("/oidc/callback/", {"code": "a-code", "state": state})

    assert response.status_code == 503 and not signed_in(client)


def test_a_discovery_document_for_another_issuer_is_refused(db, settings, client, httpserver):
    httpserver.expect_request("/.well-known/openid-configuration").respond_with_json(
        {"issuer": "https://elsewhere.example.com", "authorization_endpoint": "x"}
    )
    settings.OIDC_DISCOVERY_URL = httpserver.url_for("/.well-known/openid-configuration")
    settings.OIDC_CLIENT_ID = "remediator-test"

    response = client.get("/oidc/authenticate/")

    assert response.status_code == 503


def test_sso_routes_are_404_when_sso_is_off(db, client):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/", {"code": "c", "state": "s"}).status_code == 404
