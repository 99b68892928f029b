"""Every bad input of tests/fixtures/bad/ gets the right 4xx and a JSON error naming the
problem; a body that was received is kept as a rejected delivery; nothing else changes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from findings.models import Delivery
from tests.dashboard.conftest import make_user
from tests.dashboard.factories import make_action
from tests.engine.factories import ingest, vuln

from .conftest import (
    FIXTURES_DIR,
    SECRET,
    SOURCES,
    bad_bodies,
    bad_requests,
    rejected_delivery_only,
    snapshot,
)

pytestmark = pytest.mark.django_db
BODIES = bad_bodies()
REQUESTS = bad_requests()
DECODE_FAILURE = "invalid_body"
UNUSABLE = {"unknown_format", "no_image", "invalid_event", "invalid_vex"}


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    for name in ("WEBHOOK_SECRET_FILE", *(f"WEBHOOK_SECRET_{s.upper()}" for s in SOURCES)):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)


def assert_json_error(response, status: int, codes: set[str] | str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    allowed = {codes} if isinstance(codes, str) else codes
    assert body["error"] in allowed and isinstance(body["detail"], str) and body["detail"], body
    return body


def _expected(bad) -> tuple[int, set[str] | str]:
    return (400, DECODE_FAILURE) if bad.status == 400 else (422, UNUSABLE)


@pytest.mark.parametrize("in_path", [False, True], ids=["secret-in-header", "secret-in-path"])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("bad", BODIES, ids=[b.name for b in BODIES])
def test_bad_body_is_4xx_and_kept_as_rejected(client, bad, source, in_path):
    before = snapshot()
    path = f"/api/v1/webhooks/{source}/" + (f"{SECRET}/" if in_path else "")
    headers = {} if in_path else {"HTTP_AUTHORIZATION": f"Bearer {SECRET}"}

    response = client.generic("POST", path, bad.body, content_type="application/json", **headers)

    status, codes = _expected(bad)
    body = assert_json_error(response, status, codes)
    delivery = rejected_delivery_only(before, bad.reason)
    assert delivery.body == bad.body and body["detail"] == delivery.error


@pytest.mark.parametrize("bad", BODIES, ids=[b.name for b in BODIES])
def test_bad_body_given_to_the_ingest_command_is_rejected(tmp_path: Path, capsys, bad):
    before = snapshot()
    report = tmp_path / "report.json"
    report.write_bytes(bad.body)

    with pytest.raises(SystemExit) as exit_:
        call_command("ingest", str(report))

    assert exit_.value.code == 2
    assert "rejected" in capsys.readouterr().err
    delivery = rejected_delivery_only(before, bad.reason)
    assert delivery.channel == "cli" and delivery.body == bad.body


@pytest.fixture
def stored():
    scan = ingest(vuln(), vuln("CVE-2024-0002", "zlib", fixed=""))
    action = make_action(scan.tag, findings=list(scan.findings.all()))
    return {
        "finding": scan.findings.first().pk,
        "action": action.pk,
        "repository": scan.tag.repository_id,
        "tag": scan.tag_id,
    }


def _credentials(client, who: str) -> dict:
    """Headers for ``who``; the admin is also signed in (for /admin/ pages)."""
    if who == "bearer":
        return {"HTTP_AUTHORIZATION": f"Bearer {SECRET}"}
    if who in ("token", "admin"):
        model = get_user_model()
        user = (
            model.objects.create_superuser("corpus-admin", password="x")
            if who == "admin"
            else make_user("corpus-reader", "Viewer")
        )
        if who == "admin":
            client.force_login(user)
        return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}
    return {}


def _meta(headers: dict) -> dict:
    now = str(int(time.time()))
    meta = {}
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        meta[key if key == "CONTENT_LENGTH" else f"HTTP_{key}"] = value.replace("{now}", now)
    return meta


def _body(spec: str) -> tuple[bytes, str]:
    if spec == "-":
        return b"", "application/json"
    kind, _, rest = spec.partition(":")
    if kind in ("json", "text"):
        return rest.encode("utf-8", "surrogatepass"), "application/json"
    if kind == "form":
        return rest.encode("ascii"), "application/x-www-form-urlencoded"
    return (FIXTURES_DIR / spec).read_bytes(), "application/json"


@pytest.mark.parametrize("bad", REQUESTS, ids=[r.name for r in REQUESTS])
def test_bad_request_is_answered_4xx_without_a_5xx(client, stored, bad):
    if bad.who in ("viewer", "approver"):
        group = "Viewer" if bad.who == "viewer" else "Security approvers"
        client.force_login(make_user(f"corpus-{bad.who}", group))
    extra = {**_credentials(client, bad.who), **_meta(bad.headers)}
    body, content_type = _body(bad.body)
    path = bad.path.format(**stored)
    before = snapshot()
    deliveries = Delivery.objects.count()
    last = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = client.generic(bad.method, path, body, content_type=content_type, **extra)

    if bad.error == "html":
        assert response.status_code == bad.status
        assert response["Content-Type"].startswith("text/html")
    elif bad.error == "-":
        assert response.status_code == bad.status, response.content[:300]
        if response.status_code == 302:  # a page's form: back to a page of this site
            assert response["Location"].startswith("/")
    else:
        assert_json_error(response, bad.status, bad.error)
    if bad.kept == "rejected":
        rejected_delivery_only(before, "", after_id=last)
    else:
        assert Delivery.objects.count() == deliveries
        assert snapshot() == before
