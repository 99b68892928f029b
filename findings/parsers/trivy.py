"""Trivy JSON: ``SchemaVersion: 2`` reports and the pre-0.20 top-level list
``[{Target, Type, Vulnerabilities}]``. See FORMATS.md section 3."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET, Raw

from .base import ImageRef, ParsedFinding, ParsedScan
from .fields import as_dict, dicts, is_object, sharing, text, texts, wrong_shape
from .images import normalize_digest, try_image_reference
from .normalize import (
    cvss_score,
    merge_findings,
    normalize_severity,
    package_type_from_purl,
    package_type_from_trivy,
    parse_datetime,
    split_versions,
)
from .typed import Doc, TypedFormat, objects

SOURCE = "trivy"
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".oci")
_REPORT_KEYS = frozenset({"SchemaVersion", "Results", "ArtifactName", "Metadata"})


# What the parser reads of a report (typed decoding, ``typed.py``): the image's config
# and layers are never decoded, the vulnerabilities one at a time.
class TrivyResult(Doc):
    Target: Any = UNSET
    Class: Any = UNSET
    Type: Any = UNSET
    Vulnerabilities: list[Raw] | None = UNSET  # decoded one at a time (typed.objects)


class TrivyMetadata(Doc):
    ImageID: Any = UNSET
    OS: Any = UNSET
    RepoTags: Any = UNSET
    RepoDigests: Any = UNSET


class TrivyReport(Doc):
    SchemaVersion: Any = UNSET
    CreatedAt: Any = UNSET
    ArtifactName: Any = UNSET
    ArtifactType: Any = UNSET
    Metadata: TrivyMetadata | None = UNSET
    Results: list[TrivyResult] | None = UNSET
    Trivy: Any = UNSET
    ReportID: Any = UNSET


TYPED = TypedFormat(TrivyReport, lambda report: bool(_REPORT_KEYS & report.keys()))
"""A ``SchemaVersion: 2`` report; the legacy top-level list is decoded as plain JSON."""


def parse(document: object) -> ParsedScan:
    """Parse a Trivy report; ``null`` is an empty scan without an image."""
    if document is None:
        return ParsedScan(source=SOURCE, image=None)
    if isinstance(document, list):
        for item in document:
            if not is_object(item) or not ({"Target", "Vulnerabilities"} & item.keys()):
                raise wrong_shape(SOURCE, "a legacy list of {'Target', 'Vulnerabilities'}", item)
        return ParsedScan(
            source=SOURCE, image=None, findings=findings_from_results(document), scanner="Trivy"
        )
    if not is_object(document):
        raise wrong_shape(SOURCE, "an object with 'Results' or a legacy list", document)
    if not (_REPORT_KEYS & document.keys()):
        raise wrong_shape(SOURCE, "an object with 'SchemaVersion' and 'Results'", document)
    results = document.get("Results")
    if results is not None and not isinstance(results, list):
        raise wrong_shape(SOURCE, "'Results' to be a list", results)
    metadata = as_dict(document.get("Metadata"))
    extra: dict[str, Any] = {}
    image_id = normalize_digest(text(metadata, "ImageID"))
    if image_id:
        extra["image_id"] = image_id  # a config digest, not the manifest digest
    version = text(document.get("Trivy"), "Version")
    os_info = as_dict(metadata.get("OS"))
    return ParsedScan(
        source=SOURCE,
        image=image_from_metadata(document, metadata),
        findings=findings_from_results(results or []),
        scanner=f"Trivy {version}" if version else "Trivy",
        scan_id=text(document, "ReportID"),
        scanned_at=parse_datetime(document.get("CreatedAt")),
        os=os_name(os_info),
        extra=extra,
    )


def os_name(os_info: dict[str, Any]) -> str:
    """'alpine 3.20.3' from Metadata.OS."""
    return " ".join(filter(None, (_os_family(os_info), text(os_info, "Name"))))


def _os_family(os_info: dict[str, Any]) -> str:
    family = text(os_info, "Family")
    return "" if family == "none" else family  # Trivy says "none" when it found no OS


def image_from_metadata(document: dict[str, Any], metadata: dict[str, Any]) -> ImageRef | None:
    """RepoDigests (tag taken from a RepoTag of the same repository), else RepoTags,
    else ArtifactName when it is a container image and not an archive path."""
    tags = [ref for ref in map(try_image_reference, texts(metadata.get("RepoTags"))) if ref]
    for candidate in texts(metadata.get("RepoDigests")):
        ref = try_image_reference(candidate)
        if ref is not None and ref.digest:
            tag = next((t.tag for t in tags if t.name == ref.name and t.tag), "")
            return ImageRef(ref.registry, ref.repository, tag or ref.tag, ref.digest)
    if tags:
        return tags[0]
    name = text(document, "ArtifactName")
    if text(document, "ArtifactType") not in ("container_image", ""):
        return None
    if name.startswith(("/", "./", "../")) or name.lower().endswith(_ARCHIVE_SUFFIXES):
        return None
    return try_image_reference(name) if name else None


def cvss_of(vuln: dict[str, Any]) -> tuple[float | None, str]:
    """From CVSS[SeveritySource], else nvd, else the first source; V3, then V40, then V2."""
    cvss = as_dict(vuln.get("CVSS"))
    order = [text(vuln, "SeveritySource"), "nvd", *cvss.keys()]
    for source in dict.fromkeys(s for s in order if s in cvss):
        entry = as_dict(cvss[source])
        for version in ("V3", "V40", "V2"):
            vector = text(entry, f"{version}Vector")
            score = cvss_score(entry.get(f"{version}Score"), vector)
            if score is not None:
                return score, vector
    return None, ""


def _severity(vuln: dict[str, Any]) -> str:
    severity = normalize_severity(vuln.get("Severity"))
    if severity == "unknown":
        vendor = as_dict(vuln.get("VendorSeverity"))
        severity = normalize_severity(vendor.get(text(vuln, "SeveritySource")))
    return severity


def findings_from_results(results: list[Any]) -> tuple[ParsedFinding, ...]:
    return merge_findings(_findings(results))


def _findings(results: list[Any]) -> list[ParsedFinding]:
    """Each result's findings as listed; equal texts shared by a memo that ends here,
    before the findings merge (it holds every distinct text of the report)."""
    found = []
    share = sharing()
    for result in dicts(results):
        target = text(result, "Target")
        result_type = package_type_from_trivy(text(result, "Type"))
        for vuln in objects(result.get("Vulnerabilities")):
            vuln_id = text(vuln, "VulnerabilityID")
            if not vuln_id:
                continue
            purl = text(vuln.get("PkgIdentifier"), "PURL")
            package_type = package_type_from_purl(purl) if purl else "unknown"
            score, vector = cvss_of(vuln)
            links = [text(vuln, "PrimaryURL"), *texts(vuln.get("References"))]
            location = text(vuln, "PkgPath") or target
            found.append(
                ParsedFinding(
                    vulnerability_id=vuln_id,
                    package=share(text(vuln, "PkgName", "PkgID")),
                    installed_version=share(text(vuln, "InstalledVersion")),
                    package_type=package_type if package_type != "unknown" else result_type,
                    severity=_severity(vuln),
                    fixed_versions=share(split_versions(vuln.get("FixedVersion"))),
                    cvss_score=score,
                    cvss_vector=share(vector),
                    title=share(text(vuln, "Title")),
                    description=share(text(vuln, "Description")),
                    links=tuple(dict.fromkeys(filter(None, links))),
                    vendor_status=text(vuln, "Status"),
                    locations=share((location,) if location else ()),
                    published_at=parse_datetime(vuln.get("PublishedDate")),
                )
            )
    return found
