"""Checks one rendered manifest of the chart where kubernetes-validate cannot.

python check_rendered.py MANIFEST CERT_MANAGER_SCHEMA

- cert-manager kinds (no built-in schema): validated against cert-manager.schema.json;
- every resource carries the Kubernetes recommended labels and helm.sh/chart;
- prints one line, the resources per kind ("Deployment=5 Service=2 ..."), for the summary.

Exit status 1 and one line per problem on stderr when anything is wrong.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import jsonschema
import yaml

LABELS = (
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/component",
    "helm.sh/chart",
)


def problems(docs: list[dict], cert_manager: dict) -> list[str]:
    found = []
    kinds = cert_manager["$defs"]
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if doc.get("apiVersion", "").startswith("cert-manager.io/"):
            if doc.get("kind") not in kinds:
                found.append(f"{name}: no schema for this cert-manager kind")
                continue
            validator = jsonschema.Draft7Validator(
                {**cert_manager, "$ref": f"#/$defs/{doc['kind']}"}
            )
            found += [
                f"{name}: {error.json_path}: {error.message}"
                for error in validator.iter_errors(doc)
            ]
        missing = [key for key in LABELS if key not in doc.get("metadata", {}).get("labels", {})]
        if missing:
            found.append(f"{name}: no label {', '.join(missing)}")
    return found


def main(manifest: str, schema: str) -> int:
    docs = [doc for doc in yaml.safe_load_all(Path(manifest).read_text()) if doc]
    found = problems(docs, json.loads(Path(schema).read_text()))
    for line in found:
        print(f"{manifest}: {line}", file=sys.stderr)
    kinds = collections.Counter(doc["kind"] for doc in docs)
    print(" ".join(f"{kind}={count}" for kind, count in sorted(kinds.items())))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
