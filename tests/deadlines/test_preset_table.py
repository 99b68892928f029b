"""The due dates of each preset, as its source states them: a table of cases.

FedRAMP counts from detection (critical and high 30 days, moderate 90, low 180);
PCI DSS 4.0 req. 6.3.3 gives critical and high one calendar month from a fix's release;
CISA BOD 22-01 holds a KEV entry to the catalogue's due date, which caps every preset.
An accepted risk's pause moves the policy's deadline, never the KEV date; an exempt
finding reopened counts again from the reopening.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from findings.deadline import deadline_of
from findings.models import Finding
from remediator.teams.deadlines import PRESETS, due_at


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def kev_end(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=23, minute=59, second=59, tzinfo=UTC)


DAY = 86400
DETECTED = at("2026-01-01")
# (preset, severity, fixable_since, kev_due_date, paused_seconds, restarted_at, expected)
CASES = [
    # FedRAMP: from detection, whatever the fix
    ("fedramp", "critical", None, None, 0, None, at("2026-01-31")),
    ("fedramp", "high", None, None, 0, None, at("2026-01-31")),
    ("fedramp", "medium", None, None, 0, None, at("2026-04-01")),
    ("fedramp", "low", None, None, 0, None, at("2026-06-30")),
    ("fedramp", "negligible", None, None, 0, None, None),
    ("fedramp", "unknown", None, None, 0, None, None),
    ("fedramp", "high", at("2026-01-20"), None, 0, None, at("2026-01-31")),
    # KEV earlier than the severity's deadline: KEV wins
    ("fedramp", "critical", None, date(2026, 1, 15), 0, None, kev_end("2026-01-15")),
    # KEV later than the severity's deadline: the severity wins
    ("fedramp", "critical", None, date(2026, 3, 1), 0, None, at("2026-01-31")),
    # a low finding in KEV: the catalogue's date caps 180 days
    ("fedramp", "low", None, date(2026, 2, 10), 0, None, kev_end("2026-02-10")),
    # an acceptance paused the clock 5 days: the deadline moves 5 days
    ("fedramp", "critical", None, None, 5 * DAY, None, at("2026-02-05")),
    # ... the KEV date does not move: it caps the paused deadline
    ("fedramp", "critical", None, date(2026, 2, 1), 5 * DAY, None, kev_end("2026-02-01")),
    ("fedramp", "critical", None, date(2026, 2, 10), 5 * DAY, None, at("2026-02-05")),
    # exempt, then reopened on 1 March: the clock restarts there
    ("fedramp", "critical", None, None, 0, at("2026-03-01", 15), at("2026-03-31", 15)),
    ("fedramp", "medium", None, None, 0, at("2025-12-01"), at("2026-04-01")),
    # PCI DSS 4.0 6.3.3: no fix released, no deadline
    ("pci-dss-4", "critical", None, None, 0, None, None),
    ("pci-dss-4", "high", None, None, 0, None, None),
    # a fix released on 31 January: one calendar month, to the month's last day
    ("pci-dss-4", "critical", at("2026-01-31"), None, 0, None, at("2026-02-28")),
    ("pci-dss-4", "high", at("2028-01-31"), None, 0, None, at("2028-02-29")),
    ("pci-dss-4", "critical", at("2026-03-15"), None, 0, None, at("2026-04-15")),
    ("pci-dss-4", "high", at("2026-12-20"), None, 0, None, at("2027-01-20")),
    # medium and low: "appropriate time frames", none set
    ("pci-dss-4", "medium", at("2026-01-31"), None, 0, None, None),
    ("pci-dss-4", "low", at("2026-01-31"), None, 0, None, None),
    # KEV caps PCI too, and gives a deadline where there was none
    ("pci-dss-4", "critical", at("2026-01-31"), date(2026, 2, 10), 0, None, kev_end("2026-02-10")),
    ("pci-dss-4", "critical", None, date(2026, 2, 10), 0, None, kev_end("2026-02-10")),
    ("pci-dss-4", "critical", at("2026-01-31"), date(2026, 6, 1), 0, None, at("2026-02-28")),
    # paused 10 days after a fix released on 31 January
    ("pci-dss-4", "critical", at("2026-01-31"), None, 10 * DAY, None, at("2026-03-10")),
    # CISA BOD 22-01: only KEV entries, by the catalogue's date; pauses do not move it
    ("cisa-bod-22-01", "critical", None, None, 0, None, None),
    ("cisa-bod-22-01", "low", None, date(2026, 1, 22), 0, None, kev_end("2026-01-22")),
    ("cisa-bod-22-01", "critical", None, date(2026, 1, 22), 30 * DAY, None, kev_end("2026-01-22")),
]


@pytest.mark.parametrize(
    ("preset", "severity", "fixable_since", "kev", "paused", "restarted", "expected"), CASES
)
def test_due_date_of_each_preset(preset, severity, fixable_since, kev, paused, restarted, expected):
    got = due_at(
        PRESETS[preset].terms,
        severity=severity,
        detected_at=DETECTED,
        fixable_since=fixable_since,
        kev_due_date=kev,
        paused_seconds=paused,
        restarted_at=restarted,
    )

    assert got == expected


def test_kev_caps_off_leaves_the_severity_deadline():
    from dataclasses import replace

    terms = replace(PRESETS["fedramp"].terms, kev_caps=False)

    got = due_at(
        terms,
        severity="critical",
        detected_at=DETECTED,
        fixable_since=None,
        kev_due_date=date(2026, 1, 5),
    )

    assert got == at("2026-01-31")


NOW = at("2026-01-20", 12)
# (status, due_at, paused_at, fixed_at) -> (state, days_left, overdue_days, closed_in_time, late)
STATES = [
    ("open", at("2026-02-20", 12), None, None, ("on_track", 31, None, None, None)),
    ("open", at("2026-01-25", 12), None, None, ("due_soon", 5, None, None, None)),
    ("in_remediation", at("2026-01-20", 13), None, None, ("due_soon", 0, None, None, None)),
    ("open", at("2026-01-20", 11), None, None, ("overdue", -1, 1, None, None)),
    ("open", at("2026-01-17", 12), None, None, ("overdue", -3, 3, None, None)),
    ("open", None, None, None, ("none", None, None, None, None)),
    ("accepted", at("2026-01-25"), at("2026-01-10"), None, ("paused", None, None, None, None)),
    ("accepted", None, None, None, ("exempt", None, None, None, None)),
    ("fixed", at("2026-01-25"), None, at("2026-01-24"), ("none", None, None, True, None)),
    ("fixed", at("2026-01-25"), None, at("2026-01-29"), ("none", None, None, False, 4)),
    # fixed while an acceptance paused it: judged at the pause
    (
        "fixed",
        at("2026-01-25"),
        at("2026-01-24"),
        at("2026-03-01"),
        ("none", None, None, True, None),
    ),
    ("fixed", None, None, at("2026-01-29"), ("none", None, None, None, None)),
    ("false_positive", at("2026-01-01"), None, None, ("none", None, None, None, None)),
]


@pytest.mark.parametrize(("status", "due", "paused_at", "fixed_at", "expected"), STATES)
def test_where_a_finding_stands(settings, status, due, paused_at, fixed_at, expected):
    settings.SLA_DUE_SOON_DAYS = 7
    finding = Finding(status=status, due_at=due, sla_paused_at=paused_at, fixed_at=fixed_at)

    d = deadline_of(finding, now=NOW)

    assert (d.state, d.days_left, d.overdue_days, d.closed_in_time, d.late_days) == expected


def test_every_preset_is_in_the_table():
    assert {case[0] for case in CASES} == set(PRESETS)
