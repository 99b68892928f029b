"""Malformed VEX documents, each made from a real fixture by one change, with the
error it must be refused with (the path in the document, and what was wrong)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

VEX = Path(__file__).parents[1] / "fixtures" / "vex"


def _doc(name: str) -> dict:
    return json.loads((VEX / name).read_bytes())


def _changed(name: str, change) -> bytes:
    document = copy.deepcopy(_doc(name))
    change(document)
    return json.dumps(document).encode()


def _set(path: list, value):
    def change(document):
        node = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _drop(key: str):
    return lambda document: document.pop(key)


MALFORMED: dict[str, tuple[bytes, str]] = {
    "truncated": (
        (VEX / "csaf/trivy_csaf.json").read_bytes()[:700],
        "not JSON: ",
    ),
    "not_vex": (b'{"SchemaVersion": 2, "Results": []}', "not a VEX document"),
    "openvex_statements_object": (
        _changed("openvex/trivy_oci.openvex.json", _set(["statements"], {"a": 1})),
        "openvex: statements: expected a list, found an object with keys a",
    ),
    "openvex_unknown_status": (
        _changed("openvex/go_vex_v0.2.0.json", _set(["statements", 1, "status"], "maybe")),
        "openvex: statements[1].status: unknown status 'maybe'",
    ),
    "openvex_product_number": (
        _changed("openvex/go_vex_v0.2.0.json", _set(["statements", 4, "products", 0], 7)),
        "openvex: statements[4].products[0]: expected an object, found a number",
    ),
    "csaf_without_product_tree": (
        _changed("csaf/trivy_csaf.json", _drop("product_tree")),
        "csaf: product_tree: missing",
    ),
    "csaf_unknown_product": (
        _changed(
            "csaf/oasis_2022-evd-uc-02-na-001.json",
            _set(["vulnerabilities", 3, "product_status", "known_not_affected"], ["CSAFPID-9"]),
        ),
        "csaf: vulnerabilities[3].product_status.known_not_affected[0]: names product "
        "'CSAFPID-9', which the product_tree does not define",
    ),
    "csaf_unknown_status": (
        _changed(
            "csaf/trivy_csaf.json",
            _set(
                ["vulnerabilities", 0, "product_status"],
                {"probably_fine": ["go-transitive-v4.0.0"]},
            ),
        ),
        "csaf: vulnerabilities[0].product_status.probably_fine: unknown status",
    ),
    "csaf_informational": (
        _changed("csaf/trivy_csaf.json", _set(["document", "category"], "csaf_base")),
        "csaf: document.category: 'csaf_base' is no VEX document",
    ),
    "cyclonedx_unknown_state": (
        _changed(
            "cyclonedx/cisa_case2.json", _set(["vulnerabilities", 2, "analysis", "state"], "fine")
        ),
        "cyclonedx: vulnerabilities[2].analysis.state: unknown state 'fine'",
    ),
    "cyclonedx_affects_string": (
        _changed("cyclonedx/trivy_cyclonedx.json", _set(["vulnerabilities", 0, "affects"], "x")),
        "cyclonedx: vulnerabilities[0].affects: expected a list, found a string",
    ),
    "cyclonedx_spec_1_2": (
        _changed("cyclonedx/trivy_cyclonedx.json", _set(["specVersion"], "1.2")),
        "cyclonedx: specVersion: version '1.2', expected one of 1.4, 1.5, 1.6",
    ),
}
