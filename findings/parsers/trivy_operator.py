"""Trivy Operator ``VulnerabilityReport`` resources: one scan per image.

From aquasecurity/trivy-operator (``pkg/apis/aquasecurity/v1alpha1``, docs
"VulnerabilityReport"): a resource ``{apiVersion: aquasecurity.github.io/v1alpha1,
kind: VulnerabilityReport, metadata: {name, namespace, labels}, report: {
updateTimestamp, scanner: {name, vendor, version}, registry: {server}, artifact:
{repository, tag, digest}, os: {family, name}, vulnerabilities: [{vulnerabilityID,
resource, installedVersion, fixedVersion, severity, score, title, description,
primaryLink, links, target, cvss, cvsssource, packageType, packagePath,
packagePURL, publishedDate}]}}``, one per container of a workload; the labels
``trivy-operator.resource.{kind,name,namespace}`` and ``trivy-operator.container.name``
name it. ``kubectl get ... -o json|yaml`` of several gives a ``List`` (or
``VulnerabilityReportList``) with ``items``; ClusterVulnerabilityReport has the same report.
The same image in several workloads is one scan listing every workload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from msgspec import UNSET, Raw

from .base import ImageRef, ParsedFinding, ParsedScan, ParseError, Workload
from .fields import as_dict, is_object, sharing, text, texts, unique, wrong_shape
from .images import parse_image_reference
from .normalize import (
    cvss_score,
    merge_findings,
    normalize_severity,
    package_type_from_purl,
    package_type_from_trivy,
    parse_datetime,
    split_versions,
)
from .trivy import cvss_of
from .typed import Doc, TypedFormat, objects

SOURCE = "trivy-operator"
KINDS = ("VulnerabilityReport", "ClusterVulnerabilityReport")
LABEL = "trivy-operator."


# What the parser reads of a resource or a List (typed decoding of JSON, ``typed.py``;
# YAML is decoded as before).
class OperatorReport(Doc):
    updateTimestamp: Any = UNSET
    scanner: Any = UNSET
    registry: Any = UNSET
    artifact: Any = UNSET
    os: Any = UNSET
    vulnerabilities: list[Raw] | None = UNSET  # decoded one at a time (typed.objects)


class OperatorResource(Doc, rename={"items_": "items"}):  # not Doc.items()
    apiVersion: Any = UNSET
    kind: Any = UNSET
    metadata: Any = UNSET
    report: OperatorReport | None = UNSET
    items_: list[OperatorResource] | None = UNSET


def _only_reports(document: OperatorResource) -> bool:
    """Every resource, in Lists too, is a report the parser reads (any other is refused
    by the parser naming its keys, which plain JSON has all of)."""
    if document.items_ is not None and document.items_ is not UNSET:
        return all(_only_reports(item) for item in document.items_)
    return document.kind in KINDS and is_object(document.report)


TYPED = TypedFormat(OperatorResource, _only_reports)


def is_vulnerability_report(document: object) -> bool:
    if not is_object(document):
        return False
    if document.get("kind") in KINDS:
        return True
    items = document.get("items")
    return isinstance(items, list) and any(is_object(i) and i.get("kind") in KINDS for i in items)


def _items(document: object) -> list[dict[str, Any]]:
    """The VulnerabilityReports of one resource, a List, or several YAML documents."""
    if isinstance(document, list):  # several YAML documents
        return [item for doc in document for item in _items(doc)]
    if not is_object(document):
        raise wrong_shape(SOURCE, "a VulnerabilityReport or a List with 'items'", document)
    if "items" in document:
        items = document["items"]
        if not isinstance(items, list):
            raise wrong_shape(SOURCE, "'items' to be a list", items)
        return [item for item in items for item in _items(item)]
    if document.get("kind") not in KINDS or not is_object(document.get("report")):
        raise wrong_shape(
            SOURCE, f"a resource of kind {' or '.join(KINDS)} with a 'report'", document
        )
    return [document]


def _image(report: dict[str, Any]) -> ImageRef:
    artifact = as_dict(report.get("artifact"))
    repository = text(artifact, "repository")
    if not repository:
        raise ParseError(f"{SOURCE}: the report's artifact names no repository")
    server = text(report.get("registry"), "server")
    reference = f"{server}/{repository}" if server else repository
    tag = text(artifact, "tag")
    return parse_image_reference(
        f"{reference}:{tag}" if tag else reference, text(artifact, "digest")
    )


def _workload(resource: dict[str, Any]) -> Workload:
    metadata = as_dict(resource.get("metadata"))
    labels = as_dict(metadata.get("labels"))
    return Workload(
        namespace=text(labels, f"{LABEL}resource.namespace") or text(metadata, "namespace"),
        kind=text(labels, f"{LABEL}resource.kind"),
        name=text(labels, f"{LABEL}resource.name"),
        container=text(labels, f"{LABEL}container.name"),
    )


def _finding(
    vuln: dict[str, Any], os_family: str, share: Callable[[Any], Any]
) -> ParsedFinding | None:
    vuln_id = text(vuln, "vulnerabilityID")
    if not vuln_id:
        return None
    score, vector = cvss_of({"CVSS": vuln.get("cvss"), "SeveritySource": vuln.get("cvsssource")})
    if score is None:
        score = cvss_score(vuln.get("score"))
    package_type = package_type_from_purl(text(vuln, "packagePURL"))
    if package_type == "unknown":
        package_type = package_type_from_trivy(text(vuln, "packageType"))
    if package_type == "unknown" and " (" in text(vuln, "target"):
        package_type = package_type_from_trivy(os_family)  # 'nginx:1.16 (debian 10.3)'
    location = text(vuln, "packagePath", "target")
    return ParsedFinding(
        vulnerability_id=vuln_id,
        package=share(text(vuln, "resource")),
        installed_version=share(text(vuln, "installedVersion")),
        package_type=package_type,
        severity=normalize_severity(vuln.get("severity")),
        fixed_versions=share(split_versions(vuln.get("fixedVersion"))),
        cvss_score=score,
        cvss_vector=share(vector),
        title=share(text(vuln, "title")),
        description=share(text(vuln, "description")),
        links=unique([text(vuln, "primaryLink"), *texts(vuln.get("links"))]),
        locations=share((location,) if location else ()),
        published_at=parse_datetime(vuln.get("publishedDate")),
    )


def parse(document: object) -> tuple[ParsedScan, ...]:
    """One ParsedScan per image (sorted by image), listing the workloads it runs in."""
    images: dict[str, dict[str, Any]] = {}
    share = sharing()
    for resource in _items(document):
        report = resource["report"]
        image = _image(report)
        vulns = report.get("vulnerabilities")
        if vulns is not None and not isinstance(vulns, list):
            raise wrong_shape(SOURCE, "'report.vulnerabilities' to be a list", vulns)
        entry = images.setdefault(str(image), {"image": image, "findings": [], "workloads": []})
        family = text(report.get("os"), "family")
        found = (_finding(vuln, family, share) for vuln in objects(vulns))
        entry["findings"].extend(f for f in found if f is not None)
        workload = _workload(resource)
        if workload not in entry["workloads"]:
            entry["workloads"].append(workload)
        scanned_at = parse_datetime(report.get("updateTimestamp"))
        if scanned_at is not None and (entry.get("at") is None or scanned_at > entry["at"]):
            entry["at"] = scanned_at
        scanner = as_dict(report.get("scanner"))
        name = " ".join(filter(None, (text(scanner, "name") or "Trivy", text(scanner, "version"))))
        entry.setdefault("scanner", name)
        os_info = as_dict(report.get("os"))
        entry.setdefault(
            "os", " ".join(filter(None, (text(os_info, "family"), text(os_info, "name"))))
        )
    return tuple(_scan(images[key]) for key in sorted(images))


def _scan(entry: dict[str, Any]) -> ParsedScan:
    return ParsedScan(
        source=SOURCE,
        image=entry["image"],
        findings=merge_findings(entry["findings"]),
        scanner=entry["scanner"],
        scanned_at=entry.get("at"),
        os=entry["os"],
        workloads=tuple(entry["workloads"]),
    )
