"""Small builders for dashboard tests: rows made directly, in bulk, fast."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from itertools import count

from django.utils import timezone

from findings.models import (
    Delivery,
    Finding,
    Image,
    Repository,
    Scan,
    ScanFindingSet,
    Tag,
    Vulnerability,
)
from findings.scansets import encode_ids
from findings.selectors.seen import scan_finding_ids
from remediator.core.severity import SEVERITY_RANK
from remediator.engine.models import ActionKind, ActionState, RemediationAction

_seq = count(1)
SEVERITY_CYCLE = ["critical", "high", "medium", "low"]


def make_tag(name: str = "", *, registry: str = "registry.test", tag: str = "latest") -> Tag:
    name = name or f"team/app{next(_seq)}"
    repository, _ = Repository.objects.get_or_create(registry=registry, name=name)
    image, _ = Image.objects.get_or_create(repository=repository, digest=f"sha256:{'a' * 64}")
    found, _ = Tag.objects.get_or_create(repository=repository, name=tag, defaults={"image": image})
    return found


def make_scan(tag: Tag, *, days_ago: float = 0) -> Scan:
    body = f"scan {next(_seq)}".encode()
    delivery = Delivery.objects.create(
        source="trivy",
        sha256=hashlib.sha256(body).hexdigest(),
        body_gz=Delivery.compress(body),
        size=len(body),
        status=Delivery.Status.PROCESSED,
    )
    when = timezone.now() - timedelta(days=days_ago)
    scan = Scan.objects.create(
        delivery=delivery, source="trivy", image=tag.image, tag=tag, scanned_at=when
    )
    Tag.objects.filter(pk=tag.pk).update(latest_scan=scan, latest_scanned_at=when)
    return scan


def make_findings(
    tag: Tag,
    n: int,
    *,
    severities: list[str] | None = None,
    fixable: bool = True,
    days_ago: float = 10,
    fixed_days_ago: float | None = None,
    package: str = "openssl",
    scan: Scan | None = None,
) -> list[Finding]:
    severities = severities or SEVERITY_CYCLE
    scan = scan or make_scan(tag, days_ago=days_ago)
    first_seen = timezone.now() - timedelta(days=days_ago)
    rows = []
    for i in range(n):
        number = next(_seq)
        severity = severities[i % len(severities)]
        vulnerability, _ = Vulnerability.objects.get_or_create(
            id=f"CVE-2024-{number:05d}",
            defaults={"severity": severity, "title": f"Flaw {number}", "description": "Bad."},
        )
        fixed_at = (
            timezone.now() - timedelta(days=fixed_days_ago) if fixed_days_ago is not None else None
        )
        rows.append(
            Finding(
                repository_id=tag.repository_id,
                tag=tag,
                vulnerability=vulnerability,
                package=package,
                installed_version=f"1.{number}",
                package_type="deb",
                fixed_version=f"1.{number}.1" if fixable else "",
                fixable=fixable,
                severity=severity,
                severity_rank=SEVERITY_RANK[severity],
                status=Finding.Status.FIXED if fixed_at else Finding.Status.OPEN,
                first_seen=first_seen,
                last_seen=first_seen,
                first_scan=scan,
                last_scan=scan,
                fixed_at=fixed_at,
            )
        )
    created = Finding.objects.bulk_create(rows)
    ids = [f.pk for f in created] + scan_finding_ids(scan.pk)
    ScanFindingSet.objects.update_or_create(
        scan=scan, defaults={"count": len(ids), "ids": encode_ids(ids)}
    )
    return created


def make_action(
    tag: Tag,
    *,
    state: str = ActionState.AWAITING_APPROVAL,
    requested_by=None,
    findings: list[Finding] | None = None,
    build_target=None,
) -> RemediationAction:
    action = RemediationAction.objects.create(
        kind=ActionKind.REBUILD,
        state=state,
        repository=tag.repository,
        tag=tag,
        image=tag.image,
        requested_by=requested_by,
        build_target=build_target,
    )
    if findings:
        action.findings.set(findings)
    return action


def make_patchable_action(requested_by=None) -> RemediationAction:
    """A rebuild of two critical openssl findings whose build target holds a Dockerfile
    that installs openssl: its page suggests a patch."""
    from remediator.engine.models import BuildTarget

    target = BuildTarget.objects.create(
        name="t",
        provider="gitlab",
        project="42",
        dockerfile="FROM debian:12\nRUN apt-get update && apt-get install -y openssl\n",
    )
    tag = make_tag()
    findings = make_findings(tag, 2, severities=["critical"], package="openssl")
    return make_action(tag, requested_by=requested_by, findings=findings, build_target=target)
