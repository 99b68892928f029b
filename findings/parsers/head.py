"""A report without its findings: what a format's parser needs to say whether the report is
usable and which image it names, and nothing it would spend its time on.

``without_findings(slug, document)`` is ``document`` with each list of findings emptied
(shallow copies; the document itself is not changed) and every other key as it was. The
parsers raise ParseError only on the shapes kept here (the top-level keys and their
types, the items of legacy lists, the Kubernetes resources and their images), so parsing
the head raises the error that parsing the whole report would, and names the same images,
without reading one finding. A value that is not the list a format expects is kept as it
is, for the parser to refuse. Pure Python: no Django.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .fields import is_object
from .harbor import REPORT_MIME_MARKERS
from .trivy_operator import KINDS as OPERATOR_KINDS
from .typed import objects


def _emptied(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``document`` with each of ``keys`` that holds a list holding none."""
    lists = [key for key in keys if isinstance(document.get(key), list)]
    return {**document, **{key: [] for key in lists}} if lists else document


def _trivy(document: object) -> object:
    if isinstance(document, list):  # the legacy list of results
        return [_emptied(item, "Vulnerabilities") if is_object(item) else item for item in document]
    return _emptied(document, "Results") if is_object(document) else document


def _aqua(document: object) -> object:
    if isinstance(document, list):  # [{"image_name", "results": {...}}]
        return [
            {**item, "results": _aqua(item["results"])}
            if is_object(item) and is_object(item.get("results"))
            else item
            for item in document
        ]
    if not is_object(document):
        return document
    head = _emptied(document, "cves", "resources", "findings")
    rows = head.get("result")
    if isinstance(rows, list):
        # the first row also names the image, registry and OS: kept, without its
        # vulnerability name, so that it makes no finding
        first = next(objects(rows), None)
        kept = [{k: v for k, v in first.items() if k != "name"}] if first is not None else []
        head = {**head, "result": kept}
    return head


def _harbor(document: object) -> object:
    if not is_object(document):
        return document
    for key, value in document.items():
        if isinstance(key, str) and any(marker in key for marker in REPORT_MIME_MARKERS):
            if not is_object(value):
                return document
            return {**document, key: _emptied(value, "vulnerabilities")}
    return _emptied(document, "vulnerabilities")


def _trivy_k8s(document: object) -> object:
    if not is_object(document):
        return document
    head = dict(document)
    for key in ("Resources", "Findings", "Vulnerabilities"):
        if isinstance(document.get(key), list):
            head[key] = [_k8s_resource(resource) for resource in document[key]]
    return head


def _k8s_resource(resource: object) -> object:
    """Its Results keep their Target and Class (they tell the images of a workload
    apart) without their Vulnerabilities."""
    if not is_object(resource) or not isinstance(resource.get("Results"), list):
        return resource
    results = [
        _emptied(result, "Vulnerabilities") if is_object(result) else result
        for result in resource["Results"]
    ]
    return {**resource, "Results": results}


def _trivy_operator(document: object) -> object:
    if isinstance(document, list):  # several YAML documents
        return [_trivy_operator(item) for item in document]
    if not is_object(document):
        return document
    if isinstance(document.get("items"), list):
        return {**document, "items": [_trivy_operator(item) for item in document["items"]]}
    report = document.get("report")
    if document.get("kind") in OPERATOR_KINDS and is_object(report):
        return {**document, "report": _emptied(report, "vulnerabilities")}
    return document


def _keyed(key: str) -> Callable[[object], object]:
    return lambda document: _emptied(document, key) if is_object(document) else document


HEADS: dict[str, Callable[[object], object]] = {
    "aqua": _aqua,
    "trivy": _trivy,
    "trivy-k8s": _trivy_k8s,
    "trivy-operator": _trivy_operator,
    "harbor": _harbor,
    "grype": _keyed("matches"),
    "generic": _keyed("findings"),
}


def without_findings(slug: str, document: object) -> object:
    """``document`` as format ``slug`` without its findings (as it is for an unknown slug)."""
    head = HEADS.get(slug)
    return head(document) if head is not None else document
