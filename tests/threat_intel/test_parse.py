"""The pure readers of FIRST's EPSS CSV and CISA's KEV JSON, on real excerpts."""

from __future__ import annotations

import gzip
import io
from datetime import date

import pytest

from findings.threat_intel.parse import (
    EpssReader,
    ThreatIntelFormatError,
    parse_kev,
    text_lines,
)
from tests.conftest import FIXTURES

EPSS = FIXTURES / "threat_intel" / "epss_scores_excerpt.csv"
KEV = FIXTURES / "threat_intel" / "known_exploited_vulnerabilities_excerpt.json"


def _scores(data: bytes) -> tuple[EpssReader, dict]:
    reader = EpssReader(text_lines(io.BytesIO(data)))
    return reader, {s.cve: s for s in reader}


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_the_real_epss_excerpt_is_read_plain_or_gzipped(compress):
    data = EPSS.read_bytes()
    reader, scores = _scores(gzip.compress(data) if compress else data)
    assert reader.model_version == "v2026.06.15"
    assert reader.score_date == date(2026, 9, 29)
    assert len(scores) == 135 and reader.skipped.count == 0
    heartbleed = scores["CVE-2014-0160"]
    assert (heartbleed.score, heartbleed.percentile) == (0.99999, 0.99997)


def test_a_file_without_the_model_line_is_read_too():
    reader, scores = _scores(b"cve,epss,percentile\nCVE-2014-0054,0.91354,0.9981\n")
    assert reader.score_date is None and list(scores) == ["CVE-2014-0054"]


def test_bad_rows_are_skipped_counted_and_named():
    body = (
        b"#model_version:v2023.03.01,score_date:2024-01-15T00:00:00+0000\n"
        b"cve,epss,percentile\n"
        b"CVE-2014-0054,0.91354,0.9981\n"
        b"not-a-cve,0.5,0.5\n"
        b"CVE-2014-0160,1.7,0.9\n"
        b"CVE-2014-0161,0.1\n"
    )
    reader, scores = _scores(body)
    assert list(scores) == ["CVE-2014-0054"]
    assert reader.skipped.count == 3
    assert reader.skipped.examples[0].startswith("line 4: 'not-a-cve'")
    assert "0..1" in reader.skipped.examples[1]


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty"),
        (b"#model_version:v1\nid,score\nCVE-2014-0054,0.9\n", "expected the header"),
        (b'{"vulnerabilities": []}', "expected the header"),
    ],
)
def test_a_file_that_is_not_epss_is_refused(body, message):
    with pytest.raises(ThreatIntelFormatError, match=message):
        _scores(body)


def test_a_truncated_gzip_file_is_refused_when_reached():
    data = gzip.compress(EPSS.read_bytes())[:-40]
    with pytest.raises(ThreatIntelFormatError, match="gzip"):
        _scores(data)


def test_the_real_kev_excerpt_is_read():
    catalog = parse_kev(KEV.read_bytes())
    assert catalog.version == "2025.08.25" and catalog.skipped.count == 0
    by_cve = {e.cve: e for e in catalog.entries}
    assert set(by_cve) >= {"CVE-2021-44228", "CVE-2023-4863", "CVE-2014-0160", "CVE-2020-15999"}
    log4shell = by_cve["CVE-2021-44228"]
    assert log4shell.date_added == date(2021, 12, 10)
    assert log4shell.due_date == date(2021, 12, 24)
    assert log4shell.ransomware == "Known"
    assert log4shell.name == "Apache Log4j2 Remote Code Execution Vulnerability"


def test_kev_entries_without_a_cve_or_date_are_skipped():
    body = (
        b'{"catalogVersion": "x", "vulnerabilities": ['
        b'{"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10", "dueDate": "2021-12-24"},'
        b'{"cveID": "nope", "dateAdded": "2021-12-10"}, {"cveID": "CVE-2020-1"}, 7]}'
    )
    catalog = parse_kev(body)
    assert [e.cve for e in catalog.entries] == ["CVE-2021-44228"]
    assert catalog.skipped.count == 3


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"vulnerabilities": "x"}', b"{}"])
def test_a_document_that_is_not_the_kev_catalogue_is_refused(body):
    with pytest.raises(ThreatIntelFormatError, match="kev"):
        parse_kev(body)
