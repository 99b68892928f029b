"""The published JSON schemas of the three VEX formats, vendored as test fixtures
(tests/fixtures/vex/schemas, each with its line in SOURCES.tsv), with the schemas they
reference registered under their URLs: nothing is fetched."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jsonschema
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT7, DRAFT202012

SCHEMAS = Path(__file__).parents[1] / "fixtures" / "vex" / "schemas"
_DRAFTS = {
    "http://json-schema.org/draft-04/schema#": DRAFT4,
    "http://json-schema.org/draft-07/schema#": DRAFT7,
}


def _load(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


@cache
def _registry() -> Registry:
    resources = []
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        uri = (schema.get("$id") or schema.get("id") or "").split("?")[0]
        if not uri:
            continue  # referenced by no other schema (the VEX repository's own)
        draft = _DRAFTS.get(schema.get("$schema", ""), DRAFT202012)
        resources.append((uri, draft.create_resource(schema)))
    return Registry().with_resources(resources)


def schema_for(document: dict) -> dict:
    if "@context" in document:
        return _load("openvex_json_schema.json")
    if "document" in document:
        return _load("csaf_json_schema.json")
    return _load(f"cyclonedx-bom-{document['specVersion']}.schema.json")


def schema_errors(document: dict) -> list[str]:
    schema = schema_for(document)
    validator = jsonschema.validators.validator_for(schema)(schema, registry=_registry())
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator.iter_errors(document)
    ]
