from __future__ import annotations

import pytest

from findings.parsers.normalize import (
    cvss_from_vector,
    normalize_severity,
    severity_from_cvss,
    worst_severity,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Aqua lowercase, incl. Debian's "unimportant"
        ("critical", "critical"),
        ("high", "high"),
        ("medium", "medium"),
        ("low", "low"),
        ("negligible", "negligible"),
        ("unimportant", "negligible"),
        # Trivy UPPERCASE
        ("CRITICAL", "critical"),
        ("HIGH", "high"),
        ("MEDIUM", "medium"),
        ("LOW", "low"),
        ("UNKNOWN", "unknown"),
        # Trivy VendorSeverity integers
        (0, "unknown"),
        (1, "low"),
        (2, "medium"),
        (3, "high"),
        (4, "critical"),
        # Harbor / Grype Title-case
        ("Critical", "critical"),
        ("High", "high"),
        ("Medium", "medium"),
        ("Low", "low"),
        ("Negligible", "negligible"),
        ("Unknown", "unknown"),
        ("None", "unknown"),
        # empty and junk
        ("", "unknown"),
        (None, "unknown"),
        ("  high ", "high"),
        ("bogus", "unknown"),
        (7, "unknown"),
        (True, "unknown"),
        ([], "unknown"),
        ({"x": 1}, "unknown"),
        # digits that int() refuses: superscripts, more than Python's 4300-digit limit
        ("\u00b2", "unknown"),
        ("\u0663", "unknown"),
        ("9" * 5000, "unknown"),
        (10**400, "unknown"),
    ],
)
def test_every_severity_vocabulary_maps_to_our_six(value: object, expected: str) -> None:
    assert normalize_severity(value) == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0.0, "negligible"),
        (0.1, "low"),
        (3.9, "low"),
        (4.0, "medium"),
        (6.9, "medium"),
        (7.0, "high"),
        (8.9, "high"),
        (9.0, "critical"),
        (10.0, "critical"),
        (10, "critical"),
        ("5", "medium"),
        ("7.0", "high"),
        (None, "unknown"),
        ("n/a", "unknown"),
        (-1, "unknown"),
        (10.1, "unknown"),
        (True, "unknown"),
        (10**400, "unknown"),
        ("1e400", "unknown"),
    ],
)
def test_cvss_boundaries_follow_the_v3_rating_table(score: object, expected: str) -> None:
    assert severity_from_cvss(score) == expected


def test_exact_4_0_and_7_0_do_not_fall_through_to_critical() -> None:
    # DefectDojo's Aqua parser rates these two exact values as Critical.
    assert severity_from_cvss(4.0) == "medium"
    assert severity_from_cvss(7.0) == "high"


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 8.8),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
    ],
)
def test_base_score_is_computed_from_a_vector(vector: str, expected: float) -> None:
    assert cvss_from_vector(vector) == expected


@pytest.mark.parametrize("vector", ["", "garbage", "CVSS:3.1/AV:X", "CVSS:4.0/AV:N", None, 7.5])
def test_invalid_vector_gives_no_score(vector: object) -> None:
    assert cvss_from_vector(vector) is None


def test_worst_severity_prefers_any_known_rating_over_unknown() -> None:
    assert worst_severity("unknown", "low") == "low"
    assert worst_severity("medium", "critical", "high") == "critical"
    assert worst_severity("unknown") == "unknown"
    assert worst_severity() == "unknown"
