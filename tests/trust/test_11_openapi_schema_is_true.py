"""Class 11: the OpenAPI schema tells the truth.

tests/bad_input/test_schemathesis.py generates requests the schema allows and forbids
and fails on any disagreement; here each mismatch that run found is named: what the
schema now says, and that the API answers it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from findings.models import Finding
from remediator.core.storable import BIGINT_MAX
from remediator.engine.models import ActionState, Policy
from tests.dashboard.factories import make_action, make_findings, make_tag

pytestmark = pytest.mark.django_db
LISTS = ("images", "scans", "findings", "vulnerabilities", "deliveries", "actions")


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_superuser("schema-admin"))
    return client


@pytest.fixture
def schema(api) -> dict:
    return api.get("/api/v1/schema/?format=json").json()


def _operation(schema: dict, method: str, path: str) -> dict:
    return schema["paths"][path][method]


def _parameter(schema: dict, path: str, name: str, method: str = "get") -> dict:
    found = [p for p in _operation(schema, method, path)["parameters"] if p["name"] == name]
    assert found, f"{name} is not documented for {method.upper()} {path}"
    return found[0]["schema"]


def _body(schema: dict, method: str, path: str) -> dict:
    body = _operation(schema, method, path)["requestBody"]
    reference = body["content"]["application/json"]["schema"]["$ref"]
    return schema["components"]["schemas"][reference.rsplit("/", 1)[1]]


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response.json()["error"] == code
    return response.json()


@pytest.mark.parametrize("collection", LISTS)
def test_an_empty_or_invented_cursor_is_refused_and_the_schema_says_what_a_cursor_is(
    api, schema, collection
):
    cursor = _parameter(schema, f"/api/v1/{collection}/", "cursor")
    assert cursor == {"type": "string", "format": "cursor", "pattern": "^[A-Za-z0-9+/=]{1,1000}$"}
    _error(api.get(f"/api/v1/{collection}/?cursor="), 400, "invalid_cursor")
    _error(api.get(f"/api/v1/{collection}/?cursor=~~"), 400, "invalid_cursor")


@pytest.mark.parametrize("collection", LISTS)
def test_page_size_is_documented_as_the_lenient_preference_it_is(api, schema, collection):
    page_size = _parameter(schema, f"/api/v1/{collection}/", "page_size")
    assert page_size == {"type": "string"}  # any text: not a number means the default
    assert api.get(f"/api/v1/{collection}/?page_size=lots").status_code == 200


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/v1/findings/", "repository"),
        ("/api/v1/findings/", "scan"),
        ("/api/v1/scans/", "repository"),
    ],
)
def test_id_filters_say_they_start_at_1_and_refuse_0(api, schema, path, name):
    assert _parameter(schema, path, name) == {
        "type": "integer",
        "minimum": 1,
        "maximum": BIGINT_MAX,
    }
    _error(api.get(f"{path}?{name}=0"), 400, "invalid")
    assert api.get(f"{path}?{name}=1").status_code == 200


def test_path_ids_are_database_ids(schema):
    for path, item in schema["paths"].items():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["schema"]["type"] == "integer":
                    assert parameter["schema"]["minimum"] == 1, path


def test_days_of_a_backtest_are_1_to_the_most_allowed_and_an_empty_value_is_refused(
    api, schema, settings
):
    longest = settings.BACKTEST_MAX_DAYS
    policy = Policy.objects.create(name="days", min_severity="high")
    path = "/api/v1/policies/{id}/backtest/"
    days = _parameter(schema, path, "days")
    assert days == {"type": "integer", "minimum": 1, "maximum": longest}
    url = f"/api/v1/policies/{policy.pk}/backtest/"
    for bad in ("0", str(longest + 1), ""):
        _error(api.get(f"{url}?days={bad}"), 400, "invalid")
    assert api.get(f"{url}?days={longest}").status_code == 200


def test_epss_min_is_a_probability_in_the_schema_and_the_api(api, schema):
    assert _parameter(schema, "/api/v1/findings/", "epss_min") == {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
    }
    _error(api.get("/api/v1/findings/?epss_min=1.5"), 400, "invalid")


@pytest.mark.parametrize(
    "path, name",
    [("/api/v1/findings/", "kev"), ("/api/v1/findings/", "fixable"), ("/api/v1/actions/", "open")],
)
def test_boolean_filters_refuse_anything_but_true_or_false(api, schema, path, name):
    assert _parameter(schema, path, name) == {"type": "boolean"}
    for bad in ("abc", "null", ""):
        _error(api.get(f"{path}?{name}={bad}"), 400, "invalid")
    for good in ("true", "false", "1", "0"):
        assert api.get(f"{path}?{name}={good}").status_code == 200


@pytest.mark.parametrize(
    "collection, name",
    [("findings", "since"), ("scans", "since"), ("deliveries", "since"), ("scans", "source")],
)
def test_an_empty_typed_filter_value_is_refused_not_ignored(api, collection, name):
    _error(api.get(f"/api/v1/{collection}/?{name}="), 400, "invalid")


def test_free_text_filters_say_they_hold_no_nul(api, schema):
    assert _parameter(schema, "/api/v1/scans/", "tag")["pattern"] == "^[^\\u0000]*$"
    _error(api.get("/api/v1/scans/?tag=a%00"), 400, "invalid")
    assert api.get("/api/v1/scans/?tag=").status_code == 200  # free text may be empty


def test_a_reject_reason_is_required_and_something_besides_spaces(api, schema):
    reason = _body(schema, "post", "/api/v1/actions/{id}/reject/")["properties"]["reason"]
    assert reason["pattern"] == "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
    action = make_action(make_tag("team/reject"))
    for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 5}):
        _error(api.post(f"/api/v1/actions/{action.pk}/reject/", bad), 400, "invalid")


def test_a_false_positive_needs_a_reason_as_the_schema_says(api, schema):
    body = _body(schema, "post", "/api/v1/findings/{id}/false-positive/")
    assert body["required"] == ["reason"]
    (finding,) = make_findings(make_tag("team/fp"), 1)
    url = f"/api/v1/findings/{finding.pk}/false-positive/"
    _error(api.post(url, {}), 400, "invalid")
    assert api.post(url, {"reason": "a test fixture"}).status_code == 200


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/actions/{action}/approve/", "reason"),
        ("/api/v1/actions/{action}/cancel/", "reason"),
        ("/api/v1/images/{repository}/rebuild/", "tag"),
        ("/api/v1/findings/{finding}/accept/", "reason"),
        ("/api/v1/actions/{action}/dockerfile-patch/", "dockerfile"),
    ],
)
@pytest.mark.parametrize("value", [5, True, 1.5, ["x"], {"a": "b"}])
def test_a_body_field_of_the_wrong_type_is_refused(api, url, field, value):
    tag = make_tag("team/types")
    (finding,) = make_findings(tag, 1)
    action = make_action(tag)
    path = url.format(action=action.pk, repository=tag.repository_id, finding=finding.pk)
    answer = _error(api.post(path, {field: value}), 400, "invalid")
    assert field in answer["detail"]


def test_a_body_text_keeps_its_length_as_sent(api):
    """DRF trimmed texts, so 4,001 characters with a leading \\x1f passed maxLength 4000."""
    action = make_action(make_tag("team/long"))
    answer = api.post(f"/api/v1/actions/{action.pk}/reject/", {"reason": "\x1f" + "x" * 4000})
    _error(answer, 400, "invalid")


def test_request_bodies_are_json_only_as_documented(api, schema):
    action = make_action(make_tag("team/form"))
    for path, item in schema["paths"].items():
        for operation in item.values():
            if "requestBody" in operation and not path.startswith("/api/v1/webhooks/"):
                assert set(operation["requestBody"]["content"]) == {"application/json"}, path
    form = api.post(f"/api/v1/actions/{action.pk}/approve/", {"reason": "ok"}, format="multipart")
    _error(form, 415, "unsupported_media_type")


def test_valid_requests_the_object_cannot_take_answer_a_documented_422(api, schema):
    tag = make_tag("team/nothing")
    (finding,) = make_findings(tag, 1)
    action = make_action(tag)
    past = api.post(
        f"/api/v1/findings/{finding.pk}/accept/",
        {"reason": "later", "until": "2001-01-01T00:00:00Z"},
    )
    _error(past, 422, "until_past")
    assert Finding.objects.get(pk=finding.pk).status == Finding.Status.OPEN
    _error(
        api.post(f"/api/v1/images/{tag.repository_id}/pull-request/", {}), 422, "no_build_target"
    )
    _error(api.get(f"/api/v1/actions/{action.pk}/dockerfile-patch/"), 422, "no_dockerfile")
    for method, path in [
        ("post", "/api/v1/findings/{id}/accept/"),
        ("post", "/api/v1/images/{id}/pull-request/"),
        ("get", "/api/v1/actions/{id}/dockerfile-patch/"),
    ]:
        assert "422" in _operation(schema, method, path)["responses"], path


def test_a_webhook_body_is_any_json(schema):
    body = _operation(schema, "post", "/api/v1/webhooks/{source}/")["requestBody"]
    assert body["content"]["application/json"]["schema"] == {}


def test_the_admission_and_inventory_routes_are_documented(schema):
    for path, operation_id in [
        ("/api/v1/admission/validate", "admission_validate"),
        ("/api/v1/admission/validate/{cluster}", "admission_validate_cluster"),
        ("/api/v1/inventory/", "inventory_push"),
    ]:
        operation = _operation(schema, "post", path)
        assert operation["operationId"] == operation_id
        assert operation["security"] == [{"admissionBearer": []}]
        assert {"200", "400", "401", "403", "413"} <= set(operation["responses"])
    assert schema["components"]["securitySchemes"]["admissionBearer"]["scheme"] == "bearer"


def test_an_action_in_the_wrong_state_still_answers_409(api):
    action = make_action(make_tag("team/state"), state=ActionState.REJECTED)
    _error(api.post(f"/api/v1/actions/{action.pk}/approve/", {}), 409, "wrong_state")
