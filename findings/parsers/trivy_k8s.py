"""Trivy Kubernetes reports (``trivy k8s --format json``): one scan per image.

From aquasecurity/trivy ``pkg/k8s/report``: the report is ``{ClusterName,
Resources: [{Namespace, Kind, Name, Metadata: [types.Metadata], Results, Error}]}``
where, with ``--report all``, each vulnerability Resource is one image of one
workload (``Metadata`` holds that image's RepoTags/RepoDigests/OS, as in a Trivy
image report). ``--report summary`` (the default) writes ``Findings`` instead,
one entry per workload with its images' Metadata and Results appended in order;
older Trivy wrote ``Vulnerabilities`` (and ``Misconfigurations``). Resources that
name no image (misconfigurations, RBAC, node info) are skipped.
"""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from .base import ImageRef, ParsedFinding, ParsedScan, ParseError, Workload
from .fields import as_dict, dicts, is_object, text, wrong_shape
from .images import try_image_reference
from .normalize import merge_findings
from .trivy import TrivyMetadata, TrivyResult, findings_from_results, image_from_metadata, os_name
from .typed import Doc, TypedFormat

SOURCE = "trivy-k8s"
LISTS = ("Resources", "Findings", "Vulnerabilities")
Part = tuple[ImageRef, list[dict[str, Any]], dict[str, Any]]
"""An image of a resource, its Results, and its Metadata."""


# What the parser reads of a report (typed decoding, ``typed.py``): a resource's Results
# are Trivy's, read as in an image report.
class K8sResource(Doc):
    Namespace: Any = UNSET
    Kind: Any = UNSET
    Name: Any = UNSET
    Error: Any = UNSET
    Metadata: list[TrivyMetadata] | None = UNSET
    Results: list[TrivyResult] | None = UNSET


class K8sReport(Doc):
    ClusterName: Any = UNSET
    Resources: list[K8sResource] | None = UNSET
    Findings: list[K8sResource] | None = UNSET
    Vulnerabilities: list[K8sResource] | None = UNSET


TYPED = TypedFormat(K8sReport, lambda report: bool({"ClusterName", *LISTS} & report.keys()))


def is_k8s_report(document: object) -> bool:
    return is_object(document) and "ClusterName" in document


def _target_image(result: dict[str, Any]) -> ImageRef | None:
    """The image an OS-packages Result names: 'alpine:3.14 (alpine 3.14.2)'."""
    target = text(result, "Target")
    if text(result, "Class") != "os-pkgs" or " (" not in target:
        return None
    return try_image_reference(target.split(" (", 1)[0])


def _same(a: ImageRef, b: ImageRef) -> bool:
    return a.name == b.name and (a.tag == b.tag or not a.tag or not b.tag)


def _parts(resource: dict[str, Any]) -> list[Part]:
    results = dicts(resource.get("Results"))
    metadata = [m for m in dicts(resource.get("Metadata"))]
    images = [(ref, m) for m in metadata if (ref := image_from_metadata({}, m)) is not None]
    if not images:
        images = [(ref, {}) for r in results if (ref := _target_image(r)) is not None]
    if len(images) <= 1:
        return [(images[0][0], results, images[0][1])] if images else []
    # several images in one workload (--report summary): Trivy appends each image's
    # Results in order, its OS packages first; split where an OS Result names the next
    parts: list[Part] = []
    for result in results:
        named = _target_image(result)
        match = next((i for i in images if named is not None and _same(i[0], named)), None)
        if match is not None:
            parts.append((match[0], [], match[1]))
        elif not parts:
            raise ParseError(
                f"{SOURCE}: {text(resource, 'Kind')}/{text(resource, 'Name')} merges "
                f"{len(images)} images whose findings cannot be told apart; "
                "send the report of 'trivy k8s --report all'"
            )
        parts[-1][1].append(result)
    return parts


def parse(document: object) -> tuple[ParsedScan, ...]:
    """One ParsedScan per image, with the workloads it runs in; sorted by image."""
    if not is_object(document) or not ({"ClusterName", *LISTS} & document.keys()):
        raise wrong_shape(SOURCE, "an object with 'ClusterName' and 'Resources'", document)
    cluster = text(document, "ClusterName")
    images: dict[str, dict[str, Any]] = {}
    for key in LISTS:
        value = document.get(key)
        if value is not None and not isinstance(value, list):
            raise wrong_shape(SOURCE, f"'{key}' to be a list", value)
        for resource in dicts(value):
            workload = Workload(
                namespace=text(resource, "Namespace"),
                kind=text(resource, "Kind"),
                name=text(resource, "Name"),
                cluster=cluster,
            )
            for image, results, metadata in _parts(resource):
                entry = images.setdefault(
                    str(image), {"image": image, "findings": [], "workloads": [], "errors": []}
                )
                entry["findings"].extend(findings_from_results(results))
                entry["os"] = entry.get("os") or os_name(as_dict(metadata.get("OS")))
                if workload not in entry["workloads"]:
                    entry["workloads"].append(workload)
                if text(resource, "Error"):
                    entry["errors"].append(text(resource, "Error"))
    return tuple(_scan(images[key]) for key in sorted(images))


def _scan(entry: dict[str, Any]) -> ParsedScan:
    findings: list[ParsedFinding] = entry["findings"]
    return ParsedScan(
        source=SOURCE,
        image=entry["image"],
        findings=merge_findings(findings),
        scanner="Trivy",
        os=entry.get("os", ""),
        failure="; ".join(dict.fromkeys(entry["errors"]))[:2000],
        workloads=tuple(entry["workloads"]),
    )
