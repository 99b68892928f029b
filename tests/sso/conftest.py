"""A real OpenID provider for the single sign-on tests: node-oidc-provider (tests/sso/provider),
installed with npm into tests/sso/provider/node_modules on first use, started on a free
port of 127.0.0.1.

Without node and npm the tests fail, naming them (make test installs them:
deploy/test-tools.sh).
"""

from __future__ import annotations

import html
import json
import os
import re
import select
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.core.cache import cache

PROVIDER_DIR = Path(__file__).parent / "provider"
CLIENT_ID = "remediator-test"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"
NODE, NPM = shutil.which("node"), shutil.which("npm")
NO_NODE = (
    "the single sign-on tests need node and npm to start the test OpenID provider "
    "(Debian's nodejs and npm packages, which make test installs)"
)
ADMINS, APPROVERS, VIEWERS = "remediator-admins", "security", "engineering"
TEST_SERVER = "http://testserver"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def provider_installed() -> None:
    """npm install, once (no package-lock.json: it would record registry URLs)."""
    if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return
    subprocess.run(
        [NPM, "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        check=True,
        timeout=600,
    )


@dataclass
class OidcProvider:
    issuer: str
    accounts_file: Path

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def account_set(self, sub: str, **claims: object) -> None:
        """The account ``sub`` (its claims: groups, email...), read at its next sign-in."""
        accounts = json.loads(self.accounts_file.read_text())
        accounts[sub] = claims
        self.accounts_file.write_text(json.dumps(accounts))


@contextmanager
def provider_running(folder: Path, redirect_uris: list[str]) -> Iterator[OidcProvider]:
    if not (NODE and NPM):
        pytest.fail(NO_NODE)
    provider_installed()
    port = free_port()
    accounts = folder / "accounts.json"
    accounts.write_text("{}")
    env = {
        **os.environ,
        "PORT": str(port),
        "ACCOUNTS_FILE": str(accounts),
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": ",".join(redirect_uris),
    }
    process = subprocess.Popen(
        [NODE, "provider.mjs"],
        cwd=PROVIDER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        bufsize=0,
    )
    try:
        # Raw reads of the pipe: a buffered readline() after select() would leave a line
        # that came in the same chunk (its warnings, then "listening") unseen in Python's
        # buffer while select() waits for more.
        deadline = time.monotonic() + 60
        seen = b""
        while time.monotonic() < deadline and process.poll() is None:
            ready, _, _ = select.select([process.stdout], [], [], 1.0)
            if ready:
                seen += os.read(process.stdout.fileno(), 65536)
                if b"listening" in seen.splitlines():
                    break
        else:
            output = seen.decode(errors="replace")[-2000:]
            pytest.fail(f"the test OpenID provider did not start: {output}")
        yield OidcProvider(f"http://127.0.0.1:{port}", accounts)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory) -> Iterator[OidcProvider]:
    """The provider, its client's redirect URI that of Django's test client."""
    folder = tmp_path_factory.mktemp("oidc")
    with provider_running(folder, [f"{TEST_SERVER}/oidc/callback/"]) as provider:
        yield provider


def sso_settings(settings, provider: OidcProvider) -> None:
    settings.OIDC_DISCOVERY_URL = provider.discovery_url
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid email profile groups"
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_ADMIN_GROUPS = [ADMINS]
    settings.OIDC_APPROVER_GROUPS = [APPROVERS]
    settings.OIDC_VIEWER_GROUPS = [VIEWERS]
    settings.OIDC_TIMEOUT = 10.0
    cache.clear()  # discovery documents of another test's provider


@pytest.fixture
def sso(db, settings, oidc_provider) -> OidcProvider:
    """Single sign-on on, against the test provider; groups: remediator-admins -> Admin,
    security -> Approver, engineering -> Viewer."""
    sso_settings(settings, oidc_provider)
    return oidc_provider


def provider_walk(url: str, account: str, stop_at: str) -> str:
    """Follow the provider's redirects and fill its login and consent forms as ``account``;
    the first URL under ``stop_at`` (the callback, with code and state)."""
    browser = requests.Session()
    for _ in range(12):
        if url.startswith(stop_at):
            return url
        response = browser.get(url, allow_redirects=False, timeout=30)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"', response.text)
        prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
        assert form and prompt, f"no form at {url}: {response.status_code} {response.text[:500]}"
        data = {"prompt": prompt.group(1)}
        if data["prompt"] == "login":
            data |= {"login": account, "password": "any"}
        response = browser.post(
            urljoin(url, html.unescape(form.group(1))),
            data=data,
            allow_redirects=False,
            timeout=30,
        )
        url = urljoin(url, response.headers["Location"])
    raise AssertionError(f"the provider never sent the browser back: {url}")


def sign_in_start(client, next_path: str = "/") -> str:
    """Our start: the provider's authorization URL it redirects to."""
    response = client.get("/oidc/authenticate/", {"next": next_path})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def sso_sign_in(client, account: str, next_path: str = "/"):
    """The whole authorization-code flow; the callback's response."""
    callback = provider_walk(sign_in_start(client, next_path), account, TEST_SERVER)
    return client.get(callback.removeprefix(TEST_SERVER))


def pytest_collection_modifyitems(config, items):
    """Browser tests last, as tests/dashboard/conftest.py orders them (Playwright's event
    loop then never meets another test), also when only this folder is run."""
    items.sort(key=lambda item: item.module.__name__.rsplit(".", 1)[-1].startswith("test_browser"))
