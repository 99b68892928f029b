"""The plain Django views under /api/v1/ in the OpenAPI schema, and the schema's last
touches (a postprocessing hook of drf-spectacular).

The admission webhook and the inventory push are plain views (no DRF: the API server
waits on every answer), so drf-spectacular does not see them; they are described here
as they answer (``remediator/api/admission.py``): a bearer token (ADMISSION_TOKEN), any
JSON body, 200 with the answer, 4xx ``{"error", "detail"}``. Their body is a Kubernetes
object (an AdmissionReview, a PodList) whose schema is Kubernetes', not repeated here.

Then: every integer id in a path is a database id (1 to 2**63-1); a free-text query
parameter holds no NUL (Django's form fields refuse it, 400); and a text field that
may be empty keeps its pattern whole (drf-spectacular writes ``oneOf: [pattern, "max 0
characters"]``, which "" matches twice, so "" looked invalid although it is accepted).
"""

from __future__ import annotations

import re

from remediator.api.serializers.findings import STAFF_ONLY
from remediator.core.storable import BIGINT_MAX

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER = "admissionBearer"
MAX_CLUSTER = 200
"""As ``remediator.api.admission.MAX_CLUSTER``."""


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


ANSWERS = {
    "400": _error(
        "Not JSON, empty, not an AdmissionReview / PodList, or a cluster name that is not "
        f"{MAX_CLUSTER} printable characters at most."
    ),
    "401": _error("Missing or wrong bearer token."),
    "403": _error("ADMISSION_TOKEN is not set (and ADMISSION_ALLOW_UNAUTHENTICATED is off)."),
    "411": _error("A chunked body on a server that cannot stream it."),
    "413": _error("Larger than ADMISSION_MAX_BYTES / INVENTORY_MAX_BYTES."),
}
REVIEW_ANSWER = {
    "type": "object",
    "required": ["apiVersion", "kind", "response"],
    "properties": {
        "apiVersion": {"type": "string", "description": "As the review's (v1 or v1beta1)."},
        "kind": {"type": "string", "enum": ["AdmissionReview"]},
        "response": {
            "type": "object",
            "required": ["uid", "allowed"],
            "properties": {
                "uid": {"type": "string"},
                "allowed": {"type": "boolean"},
                "status": {
                    "type": "object",
                    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                },
                "warnings": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
}
INVENTORY_ANSWER = {
    "type": "object",
    "required": ["cluster", "containers"],
    "properties": {
        "cluster": {"type": "string"},
        "containers": {"type": "integer", "description": "Containers recorded."},
    },
}
CLUSTER = {"type": "string", "maxLength": MAX_CLUSTER}


def _post(operation_id: str, summary: str, answer: dict, parameters: list[dict]) -> dict:
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "description": "Access: Authorization: Bearer <ADMISSION_TOKEN> (no user).",
            "tags": ["admission"],
            "security": [{BEARER: []}],
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {
                    "description": "The answer.",
                    "content": {"application/json": {"schema": answer}},
                },
                **ANSWERS,
            },
        }
    }


PLAIN_PATHS = {
    "/api/v1/admission/validate": _post(
        "admission_validate",
        "Kubernetes validating admission webhook: an AdmissionReview in, one out",
        REVIEW_ANSWER,
        [],
    ),
    "/api/v1/admission/validate/{cluster}": _post(
        "admission_validate_cluster",
        "The admission webhook, for a named cluster",
        REVIEW_ANSWER,
        [{"name": "cluster", "in": "path", "required": True, "schema": CLUSTER}],
    ),
    "/api/v1/inventory/": _post(
        "inventory_push",
        "Record what runs where: the body of `kubectl get pods -A -o json`",
        INVENTORY_ANSWER,
        [{"name": "cluster", "in": "query", "required": False, "schema": CLUSTER}],
    ),
}


def _operations(result: dict):
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


EMPTY_TEXT = {"type": "string", "maxLength": 0}
NO_NUL = "^[^\\u0000]*$"
LENIENT = ("page_size",)
"""Query parameters that take anything (``pagination.py``): no pattern."""


def _empty_allowed_once(schema: dict) -> None:
    """``oneOf: [A, "" only]`` -> A, when A's pattern already takes ""."""
    choices = schema.get("oneOf")
    if not isinstance(choices, list) or len(choices) != 2 or choices[1] != EMPTY_TEXT:
        return
    first = choices[0]
    pattern = first.get("pattern", "").replace(r"\u00", r"\x")
    if first.get("minLength") or not re.search(pattern, ""):
        return
    del schema["oneOf"]
    schema.update(first)


OPTIONAL = {"DeliveryDetail": STAFF_ONLY}
"""Read-only fields that some readers do not receive (drf-spectacular marks every
read-only field required)."""


def schema_postprocess(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS: add the plain views, bound path ids, keep
    the patterns of texts that may be empty whole, staff-only fields optional."""
    components = result.get("components", {}).get("schemas", {})
    for component in components.values():
        for field in component.get("properties", {}).values():
            _empty_allowed_once(field)
    for name, optional in OPTIONAL.items():
        if name in components:
            required = components[name].get("required", [])
            components[name]["required"] = [f for f in required if f not in optional]
    paths = result.setdefault("paths", {})
    for path, item in PLAIN_PATHS.items():
        paths.setdefault(path, item)
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[BEARER] = {"type": "http", "scheme": "bearer", "description": "ADMISSION_TOKEN"}
    for _path, _method, operation in _operations(result):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") == "path" and schema.get("type") == "integer":
                schema.update(minimum=1, maximum=BIGINT_MAX)
            free_text = not {"enum", "pattern", "format"} & set(schema)
            query_text = parameter.get("in") == "query" and schema.get("type") == "string"
            if query_text and free_text and parameter.get("name") not in LENIENT:
                schema["pattern"] = NO_NUL
    return result
