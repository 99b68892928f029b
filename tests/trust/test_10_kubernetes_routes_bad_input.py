"""Class 10, the Kubernetes routes: no input makes POST /api/v1/admission/validate,
POST /api/v1/inventory/ or manage.py inventory_import fail with a 5xx or a traceback.
Each probe of tests/fixtures/bad/admission.tsv and inventory.tsv gets its exact status
and error code (the limits named by their own settings: ADMISSION_MAX_BYTES,
INVENTORY_MAX_BYTES, INVENTORY_MAX_PODS, the 64-level nesting limit); a refused request
changes nothing; a well-formed review gets the AdmissionReview answer the probe names."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from findings.models import RunningImage
from remediator.engine.models import AuditEvent

from ._admission_support import (  # noqa: F401 (fixtures)
    TOKEN,
    URL,
    Probe,
    admission_settings,
    answer_of,
    probe_body,
    probes,
    shop,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shop")]
ADMISSION = probes("admission.tsv")
INVENTORY = probes("inventory.tsv")


@pytest.fixture(autouse=True)
def unknown_images_warn(request, settings):
    request.getfixturevalue("shop")  # it sets "deny": these probes expect "warn"
    settings.ADMISSION_UNKNOWN_IMAGES = "warn"


def _state() -> tuple[int, int]:
    return AuditEvent.objects.count(), RunningImage.objects.count()


def _request(client, probe: Probe, default_path: str):
    method, _, path = probe.path.partition(" ") if probe.path != "-" else ("POST", "", "")
    meta = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    for name, value in probe.headers.items():
        key = name.upper().replace("-", "_")
        key = key if key == "CONTENT_LENGTH" else f"HTTP_{key}"
        if value:
            meta[key] = value
        else:
            meta.pop(key, None)
    return client.generic(
        method, path or default_path, probe_body(probe), content_type="application/json", **meta
    )


def _contains(found: dict, expect: dict) -> None:
    for key, value in expect.items():
        if key.endswith("~"):
            assert value in found[key[:-1]], (key, found)
        else:
            assert found[key] == value, (key, found)


def _assert_error(response, probe: Probe, before: tuple[int, int]) -> None:
    assert response.status_code == probe.status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == probe.error and body["detail"], body
    _contains(body, probe.expect)
    assert _state() == before  # refused: nothing written


@pytest.mark.parametrize("probe", ADMISSION, ids=[p.name for p in ADMISSION])
def test_admission_probe_gets_its_exact_answer(client, settings, probe):
    for name, value in probe.settings.items():
        setattr(settings, name, value)
    before = _state()
    response = _request(client, probe, URL)
    if probe.status != 200:
        _assert_error(response, probe, before)
        return
    answer = answer_of(response)  # a well-formed AdmissionReview (the published schema)
    _contains(answer, probe.expect)
    assert AuditEvent.objects.filter(kind="admission").count() == 1
    for message in [answer.get("status", {}).get("message", ""), *answer.get("warnings", [])]:
        assert message.isprintable(), message  # names in answers are quoted


@pytest.mark.parametrize(
    "probe", [p for p in INVENTORY if p.surface == "api"], ids=lambda p: p.name
)
def test_inventory_push_probe_gets_its_exact_answer(client, settings, probe):
    for name, value in probe.settings.items():
        setattr(settings, name, value)
    before = _state()
    response = _request(client, probe, "/api/v1/inventory/")
    if probe.status != 200:
        _assert_error(response, probe, before)
        return
    assert response.status_code == 200, response.content[:300]
    answer = response.json()
    _contains(answer, probe.expect)
    assert RunningImage.objects.count() == before[1] + answer["containers"]
    assert len(answer.get("problems", [])) == answer["refused"]


@pytest.mark.parametrize(
    "probe", [p for p in INVENTORY if p.surface == "cli"], ids=lambda p: p.name
)
def test_inventory_import_probe_exits_as_it_should_with_one_line(tmp_path, probe):
    """manage.py prints a CommandError as one line ``CommandError: <message>`` on stderr
    and exits with its returncode; anything else would be a traceback."""
    path = tmp_path / "pods.json"
    path.write_bytes(probe_body(probe))
    args = json.loads(probe.path) if probe.path != "-" else []
    before = _state()
    out, err = StringIO(), StringIO()
    try:
        call_command("inventory_import", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        assert exc.returncode == probe.status == 2
        assert probe.error in str(exc) and len(f"CommandError: {exc}".splitlines()) == 1
        assert out.getvalue() == "" and _state() == before
        return
    assert probe.status == 0
    printed = json.loads(out.getvalue())
    _contains(printed, probe.expect)
    assert len(err.getvalue().strip().splitlines()) == printed["refused"]  # each one named


def test_the_corpora_cover_each_surface():
    surfaces = {(p.surface, p.status >= 400 or p.status == 2) for p in ADMISSION + INVENTORY}
    assert surfaces == {("api", True), ("api", False), ("cli", True), ("cli", False)}
    assert len({p.name for p in ADMISSION}) == len(ADMISSION)
    assert len({p.name for p in INVENTORY}) == len(INVENTORY)
