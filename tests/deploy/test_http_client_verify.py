"""HttpClient keeps the ``verify`` it was made with, whatever REQUESTS_CA_BUNDLE says.

requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment replace a session's
``verify`` (a CA bundle path or False); the client passes it with every call instead.
"""

from __future__ import annotations

import certifi
import pytest
from pytest_httpserver import HTTPServer

from remediator.core.errors import ProviderError
from remediator.integrations.http import HttpClient
from tests.admission.fake_kubernetes import tls_material


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """(the CA that signed the server's certificate, the server's context, a stranger CA)."""
    return tls_material(tmp_path_factory.mktemp("provider-ca"))


@pytest.fixture
def https_server(tls):
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=tls[1])
    server.start()
    server.expect_request("/api/v1/scans").respond_with_json({"result": []})
    yield server
    server.clear()
    server.stop()


def get(server: HTTPServer, verify: bool | str) -> int:
    client = HttpClient("aqua", server.url_for(""), verify=verify, retries=0, on_call=None)
    return client.request("GET", "/api/v1/scans").status_code


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_client_given_a_ca_bundle_uses_it_despite_the_environments_bundle(
    https_server, tls, monkeypatch, variable
):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv(variable, certifi.where())

    assert get(https_server, str(tls[0])) == 200


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_client_told_not_to_verify_does_not_despite_the_environments_bundle(
    https_server, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())

    assert get(https_server, False) == 200


def test_a_client_given_another_ca_refuses_the_server(https_server, tls, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls[0]))  # would trust it: not used

    with pytest.raises(ProviderError, match="failed: SSLError") as refused:
        get(https_server, str(tls[2]))

    assert not refused.value.permanent
    assert len(https_server.log) == 0


def test_a_client_that_verifies_by_default_still_honours_the_environments_bundle(
    https_server, tls, monkeypatch
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls[0]))

    assert get(https_server, True) == 200
