"""Class 9 (admission lookups): what a review costs the database does not grow with its
containers. The facts of every image of a review are read in a fixed number of queries
(repositories, tags, images, newest scans, finding sets, findings, actions), each
matching its keys in one bound parameter, so thousands of references neither cost a
query set each nor meet SQLite's variable limit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings.models import (
    Delivery,
    Finding,
    Image,
    Repository,
    Scan,
    ScanFindingSet,
    Tag,
    ThreatIntel,
    Vulnerability,
)
from findings.scansets import encode_ids
from remediator.engine.admission.cache import admission_facts, admission_memory_clear
from remediator.engine.admission.service import LOOKUP_BATCH
from remediator.engine.models import ActionKind, ActionState, AdmissionPolicy, RemediationAction
from tests.trust._identity_support import admission_ready, judged

IMAGES = 500
MAX_QUERIES = 10
"""Of a lookup of images not in memory; one of them reads their image generations from
the shared cache (a query with the database cache of the tests)."""
"""The shared cache generation, the policies and seven lookups; the same for 5 images
or 500 (the generation, when missing from the cache, costs a few more once)."""
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def digest(n: int) -> str:
    return "sha256:" + f"{n + 1:064x}"


def name(n: int) -> str:
    return f"registry.example.com/team{n % 25}/app{n}"


def reference(n: int) -> str:
    """Half by tag, half by digest; every image distinct."""
    return f"{name(n)}:1" if n % 2 else f"{name(n)}@{digest(n)}"


@pytest.fixture(autouse=True)
def admission(settings, monkeypatch, db):
    admission_ready(settings, monkeypatch)
    AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")


@pytest.fixture
def fleet(db) -> None:
    """IMAGES scanned images, each its own repository and tag; every third with a critical
    finding (KEV for some), its tag with a rebuild awaiting approval."""
    delivery = Delivery.objects.create(source="generic", sha256="0" * 64, body_gz=b"", size=0)
    Vulnerability.objects.create(id="CVE-2024-6119", severity="critical")
    ThreatIntel.objects.create(vulnerability_id="CVE-2024-6119", kev=True, epss_score=0.9)
    repos = Repository.objects.bulk_create(
        [Repository(registry="registry.example.com", name=name(n).split("/", 1)[1])
         for n in range(IMAGES)]
    )  # fmt: skip
    images = Image.objects.bulk_create(
        [Image(repository=r, digest=digest(n)) for n, r in enumerate(repos)]
    )
    tags = Tag.objects.bulk_create(
        [
            Tag(repository=r, name="1", image=i, latest_scanned_at=NOW)
            for r, i in zip(repos, images, strict=True)
        ]
    )
    scans = Scan.objects.bulk_create(
        [
            Scan(delivery=delivery, part=n, source="generic", image=i, tag=t,
                 scanner_key="generic:trivy", scanned_at=NOW)
            for n, (i, t) in enumerate(zip(images, tags, strict=True))
        ]
    )  # fmt: skip
    vulnerable = [n for n in range(IMAGES) if n % 3 == 0]
    findings = Finding.objects.bulk_create(
        [
            Finding(repository=repos[n], tag=tags[n], vulnerability_id="CVE-2024-6119",
                    package="openssl", installed_version="3.3.1", severity="critical",
                    severity_rank=5, first_seen=NOW, last_seen=NOW)
            for n in vulnerable
        ]
    )  # fmt: skip
    listed = dict(zip(vulnerable, findings, strict=True))
    ScanFindingSet.objects.bulk_create(
        [
            ScanFindingSet(scan=s, count=int(n in listed),
                           ids=encode_ids([listed[n].pk] if n in listed else []))
            for n, s in enumerate(scans)
        ]
    )  # fmt: skip
    RemediationAction.objects.bulk_create(
        [
            RemediationAction(kind=ActionKind.REBUILD, state=ActionState.AWAITING_APPROVAL,
                              repository=repos[n], tag=tags[n], image=images[n])
            for n in vulnerable
        ]
    )  # fmt: skip


def cold() -> None:
    """This process remembers nothing; the shared generation exists (as it does but
    for the first review after a cache flush)."""
    admission_facts([])
    admission_memory_clear()


def queries_for(references: list[str]) -> tuple[int, dict]:
    cold()
    with CaptureQueriesContext(connection) as captured:
        _, known = admission_facts(references)
    return len(captured), known


def test_facts_of_500_distinct_images_cost_a_bounded_number_of_queries(
    fleet, django_assert_max_num_queries
):
    references = [reference(n) for n in range(IMAGES)]
    cold()

    with django_assert_max_num_queries(MAX_QUERIES):
        _, known = admission_facts(references)

    assert all(known[r][0] is not None for r in references)
    for n in (0, 3, 6, 9):  # every third image has the critical finding and its rebuild
        facts = known[reference(n)][0]
        assert [f.vulnerability for f in facts.findings] == ["CVE-2024-6119"]
        assert facts.findings[0].kev and facts.action.kind == ActionKind.REBUILD
    assert known[reference(1)][0].findings == ()
    assert known[reference(1)][0].digest == digest(1)


def test_query_count_does_not_grow_with_the_images_of_a_review(fleet):
    few, _ = queries_for([reference(n) for n in range(5)])
    many, _ = queries_for([reference(n) for n in range(IMAGES)])

    assert many == few <= MAX_QUERIES


def test_review_of_500_containers_is_answered_with_a_bounded_number_of_queries(
    client, fleet, settings, django_assert_max_num_queries
):
    settings.ADMISSION_MAX_CONTAINERS = settings.ADMISSION_MAX_IMAGES = IMAGES  # lift the caps
    images = [reference(n) for n in range(IMAGES)]
    batches = -(-IMAGES // LOOKUP_BATCH)  # the deadline is checked between batches
    cold()

    with django_assert_max_num_queries(batches * MAX_QUERIES + 8):  # + audit, inventory
        answer, summary = judged(client, *images)

    assert answer["allowed"] is False
    denied = {s["image"] for s in summary if s["verdict"] == "deny"}
    assert denied == {reference(n) for n in range(0, IMAGES, 3)}


def test_references_remembered_cost_no_lookup(fleet, django_assert_max_num_queries):
    references = [reference(n) for n in range(IMAGES)]
    admission_memory_clear()
    admission_facts(references)

    with django_assert_max_num_queries(1):  # at most the shared generation, once a second
        _, known = admission_facts(references)

    assert len(known) == IMAGES


def test_references_beyond_sqlites_variable_limit_are_answered(db):
    references = [f"registry.example.com/bulk/app@{digest(n)}" for n in range(33_000)]

    count, known = queries_for(references)

    assert count <= MAX_QUERIES
    assert {problem for _, problem in known.values()} == {"this digest was never scanned"}
