"""Helpers for the exploit-intelligence trust tests: the real excerpts, the bad-file
corpus (tests/fixtures/bad/threat_intel/index.tsv) and a picture of what is stored."""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import REGISTRY

from findings.models import ThreatIntel, ThreatIntelFeed
from tests.conftest import FIXTURES

REAL_EPSS = FIXTURES / "threat_intel" / "epss_scores_excerpt.csv"
REAL_KEV = FIXTURES / "threat_intel" / "known_exploited_vulnerabilities_excerpt.json"
BAD = FIXTURES / "bad" / "threat_intel"


@dataclass(frozen=True)
class FeedProbe:
    name: str
    feed: str
    baseline: str
    """"none": an empty database; "real": the real excerpts imported first."""
    outcome: str
    """"refused" or "imported"."""
    detail: str
    """The refusal's reason, or the number of CVEs imported."""
    tries: str

    @property
    def id(self) -> str:
        return f"{self.name}@{self.baseline}"


def _generated(name: str) -> bytes:
    """Probes too big, or too binary, to keep as files."""
    kev = json.loads(REAL_KEV.read_bytes())
    if name == "kev_deeply_nested.json":
        return b"[" * 100_000 + b"]" * 100_000
    if name == "kev_gzip_given_as_kev.json":
        return gzip.compress(REAL_KEV.read_bytes())
    if name == "kev_huge_name.json":
        kev["vulnerabilities"][0]["vulnerabilityName"] = "A" * 1_000_000
        return json.dumps(kev).encode()
    if name == "epss_truncated.csv.gz":
        return gzip.compress(REAL_EPSS.read_bytes())[:-40]
    if name == "epss_gzip_bomb_zeros.csv.gz":
        return gzip.compress(b"\0" * 100_000_000, compresslevel=9)
    if name == "epss_gzip_bomb_newlines.csv.gz":
        return gzip.compress(b"\n" * 100_000_000, compresslevel=9)
    if name == "epss_huge_line.csv":
        head = b"".join(REAL_EPSS.read_bytes().splitlines(keepends=True)[:2])
        return head + b"CVE-2014-0160," + b"9" * 1_000_000 + b",0.5\n"
    raise KeyError(name)


def probe_file(probe: FeedProbe, directory: Path) -> Path:
    """The probe's file: the corpus's own, or generated into ``directory``."""
    path = BAD / probe.name
    if path.exists():
        return path
    path = directory / probe.name
    path.write_bytes(_generated(probe.name))
    return path


def feed_probes() -> list[FeedProbe]:
    lines = (BAD / "index.tsv").read_text(encoding="utf-8").splitlines()
    rows = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    probes = []
    for row in rows:
        if not row or row[0].startswith("#"):
            continue
        name, feed, baseline, expected, tries = row
        outcome, _, detail = expected.partition(":")
        probes.append(FeedProbe(name, feed, baseline, outcome, detail, tries))
    return probes


def stored() -> dict:
    """Every intelligence row and each feed's snapshot (not its refusal record)."""
    intel = list(ThreatIntel.objects.order_by("pk").values_list())
    feeds = list(
        ThreatIntelFeed.objects.order_by("feed").values_list(
            "feed", "version", "released_at", "rows", "imported_at"
        )
    )
    return {"intel": intel, "feeds": feeds}


def refused_metric(feed: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "remediator_threat_intel_refused_total", {"feed": feed, "reason": reason}
    )
    return value or 0.0
