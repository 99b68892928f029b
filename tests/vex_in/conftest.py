from __future__ import annotations

from pathlib import Path

import pytest

from findings.ingest import scan_ingest
from findings.models import Finding
from findings.parsers.base import ImageRef
from remediator.intake.receive import Then, delivery_receive
from tests.findings.factories import delivery, finding, report
from tests.webhooks.conftest import post, secret  # noqa: F401  (the webhook's own fixtures)

VEX = Path(__file__).parents[1] / "fixtures" / "vex"
TRIVY_IMAGE = ImageRef(
    registry="docker.io", repository="aquasec/trivy", tag="0.53.0", digest="sha256:" + "1" * 64
)
API_IMAGE = ImageRef(
    registry="ghcr.io", repository="acme/api", tag="1.0", digest="sha256:" + "2" * 64
)


def vex_body(name: str) -> bytes:
    return (VEX / name).read_bytes()


def vex_receive(body: bytes, **headers):
    """A VEX document received and imported here and now, as the command does."""
    return delivery_receive(
        source="vex", body=body, channel="cli", headers=headers, then=Then.PROCESS
    )


def ingest(image: ImageRef, *findings) -> list[Finding]:
    scan_ingest(parsed=report(*findings, image=image), image=image, delivery=delivery())
    return list(Finding.objects.filter(tag__name=image.tag, repository__name=image.repository))


@pytest.fixture
def busybox() -> Finding:
    """Trivy's image with busybox's CVE-2023-42363, which Trivy's own VEX marks not affected."""
    (found,) = ingest(
        TRIVY_IMAGE,
        finding("CVE-2023-42363", "busybox", installed_version="1.36.1-r29", severity="medium"),
    )
    return found


@pytest.fixture
def go_transitive() -> Finding:
    """A Go module finding that Trivy's test CSAF document marks not affected."""
    (found,) = ingest(
        API_IMAGE,
        finding(
            "CVE-2024-0001",
            "github.com/aquasecurity/go-transitive",
            installed_version="v4.0.0",
            package_type="golang",
            severity="critical",
        ),
    )
    return found
