"""Demo scans: the sample fixtures replayed on a few dozen images over twelve weeks.

Every report goes through the real ingestion (delivery_receive, processed here
with an image hint). Each image gets a fixture-built report per scan, each scan of a
new build (a new digest); the scan date is written into the report (Trivy CreatedAt,
Aqua scan_started, Harbor generated_at) so history spreads over the months. A third of
the findings drop out of later scans after a lognormal time (median about three
weeks, a long tail: as fixes land in practice), some come back (reopened), some
appear late (new).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from findings.models import Delivery
from findings.parsers.harbor import report_body
from remediator.intake.receive import Outcome, Then, delivery_receive

FIXTURES = Path(settings.BASE_DIR) / "tests" / "fixtures"

TRIVY = [
    "trivy/trivy_alpine-39.json",
    "trivy/trivy_amazon-2.json",
    "trivy/trivy_centos-6_eol.json",
    "trivy/trivy_fluentd-gems.json",
    "trivy/trivy_npm_repo.json",
    "trivy/trivy_photon-30.json",
    "trivy/trivy_ubuntu-1804.json",
    "trivy/dd_scheme_2_many_vulns.json",
    "trivy/dd_issue_9333_debian.json",
    "trivy/trivy_docs_reporting_alpine_latest.json",
]
AQUA = [
    "aqua/dd_many_vulns.json",
    "aqua/dd_vulns_with_aqua_severity.json",
    "aqua/postee_aqua_input.json",
    "aqua/starboard_aqua_csp_webhook_photon_fixture.json",
]
HARBOR = ["harbor/dd_harbor_report_clair_5.json"]
GRYPE = ["grype/dd_grype_fix_available.json", "grype/dd_grype_fix_not_available.json"]

TEAMS = ["payments", "checkout", "search", "identity", "platform", "data", "web", "mobile-api"]
SERVICES = ["api", "worker", "gateway", "frontend", "scheduler", "exporter", "db-migrate"]
REGISTRIES = ["registry.acme.io", "ghcr.io/acme", "docker.io/acmecorp", "harbor.acme.io"]
SCAN_DAYS = (84, 77, 70, 63, 56, 49, 42, 35, 28, 21, 14, 7, 3, 0)
FIX_MEDIAN_DAYS, FIX_SIGMA = 22.0, 0.9
"""Time to fix of the findings that get fixed: lognormal, median 22 days, p90 ~70."""

GARBAGE = [
    ("trivy", b"this is not json at all", "registry.acme.io/legacy/cron:1"),
    ("aqua", b'{"image": "x", "resources": "not-a-list"', "registry.acme.io/legacy/cron:1"),
    ("trivy", b'{"hello": "world"}', "registry.acme.io/legacy/ftp:2"),
    ("grype", b"[1, 2, 3]", "ghcr.io/acme/tools/busybox:1"),
]


def _load(relative: str):
    return json.loads((FIXTURES / relative).read_text())


def _vulnerability_lists(source: str, document) -> list[list]:
    """The (mutable) lists of vulnerability entries inside a report."""
    if source == "trivy":
        return [r.setdefault("Vulnerabilities", []) or [] for r in document.get("Results") or []]
    if source == "aqua":
        return [r.get("vulnerabilities") or [] for r in document.get("resources") or []]
    if source == "harbor":
        body = report_body(document)
        return [body.get("vulnerabilities") or []] if body else []
    if source == "grype":
        return [document.get("matches") or []]
    return []


def _set_date(source: str, document, when: datetime) -> None:
    stamp = when.isoformat().replace("+00:00", "Z")
    if source == "trivy":
        document["CreatedAt"] = stamp
    elif source == "aqua":
        document["scan_started"] = {"seconds": int(when.timestamp()), "nanos": 0}
    elif source == "harbor":
        body = report_body(document)
        if body is not None:
            body["generated_at"] = stamp


@dataclass
class DemoImage:
    reference: str
    """registry/repository, without tag."""
    tag: str
    source: str
    document: object
    scan_days: tuple[int, ...]


OS_PACKAGES = "os-pkgs"
"""A Trivy result of the image's distribution packages (apk, rpm, deb); the others
(``lang-pkgs``: npm, gems, jars) are an application's dependencies."""


def _results(document: dict, *, os_packages: bool) -> list:
    return [
        result
        for result in document.get("Results") or []
        if (result.get("Class") == OS_PACKAGES) == os_packages
    ]


def _trivy_merged(rng: random.Random) -> dict:
    """A Trivy report of one distribution: one sample image's report (its OS packages
    and its own application dependencies), plus the application dependencies (npm,
    gems, jars; never OS packages) of up to two others. An Alpine image never gets rpm
    or deb packages this way."""
    with_os = [name for name in TRIVY if _results(_load(name), os_packages=True)]
    base_name = rng.choice(with_os)
    base = _load(base_name)
    others = rng.sample([name for name in TRIVY if name != base_name], rng.randint(0, 2))
    extra = [result for name in others for result in _results(_load(name), os_packages=False)]
    base["Results"] = list(base.get("Results") or []) + extra
    return base


def demo_images(count: int, seed: int = 7) -> list[DemoImage]:
    rng = random.Random(seed)
    images: list[DemoImage] = []
    names = [(team, service) for team in TEAMS for service in SERVICES]
    rng.shuffle(names)
    for index in range(count):
        team, service = names[index % len(names)]
        registry = REGISTRIES[index % len(REGISTRIES)]
        roll = index % 10
        if roll < 6:
            source, document = "trivy", _trivy_merged(rng)
        elif roll < 8:
            source, document = "aqua", _load(AQUA[index % len(AQUA)])
        elif roll < 9:
            source, document = "harbor", _load(HARBOR[0])
        else:
            source, document = "grype", _load(GRYPE[index % len(GRYPE)])
        # Grype reports carry no scan date: one scan, today.
        days = (
            (0,)
            if source == "grype"
            else tuple(d for d in SCAN_DAYS if d in (SCAN_DAYS[0], 0) or rng.random() < 0.75)
        )
        tag = rng.choice(["latest", "main", f"1.{rng.randint(2, 9)}", "stable"])
        images.append(DemoImage(f"{registry}/{team}/{service}", tag, source, document, days))
    return images


def _keep(image: DemoImage, position: int, scan_index: int, scans: int) -> bool:
    """Which entries a scan reports: most always; some fixed after a while, some
    reopened, some new."""
    mark = int(hashlib.sha256(f"{image.reference}:{position}".encode()).hexdigest()[:8], 16)
    kind = mark % 9
    days = image.scan_days
    if kind in (1, 4, 5) and scans >= 2:  # found at some scan, fixed a lognormal time later
        start = 0 if kind == 1 else (mark // 9) % (scans - 1)
        took = random.Random(mark).lognormvariate(math.log(FIX_MEDIAN_DAYS), FIX_SIGMA)
        return start <= scan_index and days[scan_index] > days[start] - took
    if kind == 2 and scans >= 4:  # gone in one middle scan, then back: reopened
        return scan_index != scans // 2
    if kind == 3:  # appears later
        return scan_index >= scans // 3
    return True


def _report_for(image: DemoImage, scan_index: int, when: datetime) -> bytes:
    document = copy.deepcopy(image.document)
    position = 0
    for entries in _vulnerability_lists(image.source, document):
        kept = []
        for entry in entries:
            if _keep(image, position, scan_index, len(image.scan_days)):
                kept.append(entry)
            position += 1
        entries[:] = kept
    _set_date(image.source, document, when)
    if isinstance(document, dict):
        document["remediatorDemo"] = {"image": image.reference, "scan": scan_index}
    return json.dumps(document).encode()


def ingest_demo_scans(images: list[DemoImage], *, now: datetime | None = None) -> dict[str, int]:
    now = now or timezone.now()
    counts = {"scans": 0, "rejected": 0}
    jobs = []
    for number, image in enumerate(images):
        for scan_index, days in enumerate(image.scan_days):
            when = now - timedelta(days=days, hours=2 + number % 5, minutes=number)
            digest = hashlib.sha256(f"{image.reference}@{scan_index}".encode()).hexdigest()
            jobs.append((when, image, scan_index, f"{image.reference}:{image.tag}@sha256:{digest}"))
    jobs.sort(key=lambda job: job[0])  # oldest first, as scanners would have sent them
    for when, image, scan_index, hint in jobs:
        receipt = delivery_receive(
            source=image.source,
            body=_report_for(image, scan_index, when),
            image_hint=hint,
            channel="demo",
            content_type="application/json",
            then=Then.PROCESS,
        )
        # Backdate as received then: the deliveries page shows the month, not one minute.
        Delivery.objects.filter(pk=receipt.delivery.pk).update(
            received_at=when, processed_at=when + timedelta(seconds=3)
        )
        counts["scans"] += 1
    for source, body, hint in GARBAGE:
        receipt = delivery_receive(
            source=source, body=body, image_hint=hint, channel="webhook", then=Then.PROCESS
        )
        if receipt.outcome is Outcome.REJECTED:
            counts["rejected"] += 1
    return counts
