"""Report bodies for the fault suite: the real Trivy samples in tests/fixtures/trivy/,
re-addressed so that every body is a distinct report of its own image, and a
generated Trivy report of any size."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trivy"
REGISTRY = "registry.example.com/faults"


def _samples() -> dict[str, dict]:
    """Every SchemaVersion 2 sample by file name (the legacy list format names no image
    to re-address)."""
    samples = {}
    for path in sorted(FIXTURES.glob("*.json")):
        document = json.loads(path.read_text())
        if isinstance(document, dict) and document.get("SchemaVersion") == 2:
            samples[path.name] = document
    return samples


SAMPLES = _samples()
ORDER = sorted(SAMPLES)


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def readdressed(document: dict, repository: str, tag: str) -> bytes:
    """The sample as a report of ``repository:tag`` (a digest of its own), with a new
    ReportID and CreatedAt: what Trivy would send after scanning that image."""
    report = json.loads(json.dumps(document))
    image = f"{repository}:{tag}"
    metadata = report.setdefault("Metadata", {})
    metadata["RepoTags"] = [image]
    metadata["RepoDigests"] = [f"{repository}@{digest_of(image + uuid.uuid4().hex)}"]
    report["ArtifactName"] = image
    report["ArtifactType"] = "container_image"
    report["ReportID"] = str(uuid.uuid4())
    report["CreatedAt"] = datetime.now(UTC).isoformat()
    return json.dumps(report).encode()


def sample_report(scenario: str, n: int) -> bytes:
    """The n-th distinct report of a scenario (the samples in turn)."""
    return readdressed(SAMPLES[ORDER[n % len(ORDER)]], f"{REGISTRY}/{scenario}", f"n{n}")


def big_report(size: int, repository: str, tag: str) -> bytes:
    """A Trivy SchemaVersion 2 report with ``size`` distinct findings (Debian packages)."""
    vulns = [
        {
            "VulnerabilityID": f"CVE-2026-{i:05d}",
            "PkgID": f"pkg{i % 700}@1.{i // 700}.0",
            "PkgName": f"pkg{i % 700}",
            "PkgIdentifier": {"PURL": f"pkg:deb/debian/pkg{i % 700}@1.{i // 700}.0"},
            "InstalledVersion": f"1.{i // 700}.0",
            "FixedVersion": f"1.{i // 700}.1" if i % 3 else "",
            "Status": "fixed" if i % 3 else "affected",
            "Severity": ("LOW", "MEDIUM", "HIGH", "CRITICAL")[i % 4],
            "Title": f"Synthetic vulnerability {i}",
            "Description": "A generated finding for the fault suite. " * 4,
            "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-2026-{i:05d}",
            "References": [f"https://example.invalid/CVE-2026-{i:05d}"],
        }
        for i in range(size)
    ]
    image = f"{repository}:{tag}"
    return json.dumps(
        {
            "SchemaVersion": 2,
            "ReportID": str(uuid.uuid4()),
            "CreatedAt": datetime.now(UTC).isoformat(),
            "ArtifactName": image,
            "ArtifactType": "container_image",
            "Metadata": {
                "OS": {"Family": "debian", "Name": "12.8"},
                "RepoTags": [image],
                "RepoDigests": [f"{repository}@{digest_of(image + str(size))}"],
            },
            "Results": [
                {
                    "Target": f"{image} (debian 12.8)",
                    "Class": "os-pkgs",
                    "Type": "debian",
                    "Vulnerabilities": vulns,
                }
            ],
        }
    ).encode()
