"""Class 5: threat intelligence that one bad file cannot wipe.

EPSS and KEV files are full snapshots: importing one replaces the last. A file that
contradicts its own count, whose rows are mostly unreadable, that shrinks sharply,
or that is older than (or dated after) the snapshot in place is refused: the command
exits 2 with one line naming why and nothing changes; ``--force`` imports it. A refused
automatic refresh is visible: an AuditEvent, a metric, and on the pages that show
exploit data. A ``kev`` admission policy keeps denying log4shell throughout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from findings.models import ThreatIntel, ThreatIntelFeed
from findings.threat_intel.sanity import Current, Limits, Snapshot, refusal
from remediator.engine.models import AdmissionPolicy, AuditEvent
from remediator.engine.services.threat_intel import threat_intel_import
from remediator.engine.tasks import threat_intel_refresh_task
from tests.admission.conftest import admission_settings, answer_of, post_review, sample  # noqa: F401
from tests.dashboard.conftest import make_user
from tests.engine.factories import ingest, vuln

from ._intel_support import (
    BAD,
    REAL_EPSS,
    REAL_KEV,
    FeedProbe,
    feed_probes,
    probe_file,
    refused_metric,
    stored,
)

pytestmark = pytest.mark.django_db
PROBES = feed_probes()


def _command(*args: str) -> list[dict]:
    out = StringIO()
    call_command("threat_intel_import", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


@pytest.fixture
def real_snapshot() -> dict:
    """The real excerpts in place: 135 EPSS rows (2026-09-29), 6 KEV entries (2025-08-25)."""
    outcome = threat_intel_import(epss=str(REAL_EPSS), kev=str(REAL_KEV))
    assert [r.imported for r in outcome.results] == [135, 6] and not outcome.refused
    return stored()


def _refused_as(feed: str, reason: str, *args: str) -> CommandError:
    with pytest.raises(CommandError) as refused:
        _command(*args)
    error = refused.value
    assert error.returncode == 2
    assert "\n" not in str(error)
    assert str(error).startswith(f"{feed}: refused ({reason}): ")
    return error


# --- each rule ------------------------------------------------------------------------


def test_a_kev_catalogue_that_declares_1273_entries_but_carries_3_is_refused(real_snapshot):
    error = _refused_as("kev", "count", "--kev", str(BAD / "kev_count_1273_carries_3.json"))
    assert "it declares 1,273 entries but lists 3 entries" in str(error)
    assert "--force imports it anyway" in str(error)
    assert stored() == real_snapshot


def test_a_kev_file_with_one_valid_entry_and_four_malformed_is_refused(real_snapshot):
    error = _refused_as("kev", "skipped", "--kev", str(BAD / "kev_one_valid_four_malformed.json"))
    assert "4 entries of 5 cannot be read (more than 1.0%)" in str(error)
    assert stored() == real_snapshot


def test_an_epss_file_with_one_valid_row_is_refused_as_shrunk(real_snapshot):
    error = _refused_as("epss", "shrunk", "--epss", str(BAD / "epss_one_valid_row.csv"))
    assert "it holds 1 CVE against 135 in the current snapshot (fewer than 90%)" in str(error)
    assert stored() == real_snapshot
    assert ThreatIntel.objects.get(pk="CVE-2014-0054").epss_score == 0.91354


def test_a_kev_catalogue_that_shrinks_below_90_percent_is_refused(real_snapshot):
    _refused_as("kev", "shrunk", "--kev", str(BAD / "kev_shrunk_to_3.json"))
    assert stored() == real_snapshot


def test_an_older_kev_release_is_refused_as_stale(real_snapshot):
    error = _refused_as("kev", "stale", "--kev", str(BAD / "kev_stale_older_release.json"))
    assert "dated 2024-01-02 15:00 UTC, older than the current snapshot (2025-08-25" in str(error)
    assert stored() == real_snapshot


def test_an_older_epss_score_date_is_refused_as_stale(real_snapshot):
    _refused_as("epss", "stale", "--epss", str(BAD / "epss_stale_older_score_date.csv"))
    assert stored() == real_snapshot


def test_a_snapshot_dated_in_the_future_is_refused(real_snapshot):
    _refused_as("kev", "future", "--kev", str(BAD / "kev_future_release.json"))
    _refused_as("epss", "future", "--epss", str(BAD / "epss_future_score_date.csv"))
    assert stored() == real_snapshot


def test_the_same_release_imported_again_is_not_stale(real_snapshot):
    assert [r["imported"] for r in _command("--kev", str(REAL_KEV))] == [6]


def test_the_skipped_limit_is_a_fraction_of_the_rows(real_snapshot):
    """One NUL-broken row in 135 (0.7%) is under the 1% limit: imported, the row skipped."""
    ThreatIntel.objects.all().delete()
    ThreatIntelFeed.objects.all().delete()
    (result,) = _command("--epss", str(BAD / "epss_one_nul_in_135_rows.csv"))
    assert (result["imported"], result["skipped"]) == (134, 1)
    assert "\x00" not in json.dumps(result["skipped_examples"]).replace("\\\\x00", "")


def test_the_limits_are_settings(real_snapshot, settings):
    settings.THREAT_INTEL_MIN_RETAINED = 0.0
    settings.THREAT_INTEL_MAX_SKIPPED = 0.9
    assert [r["imported"] for r in _command("--kev", str(BAD / "kev_shrunk_to_3.json"))] == [3]
    (result,) = _command("--kev", str(BAD / "kev_one_valid_four_malformed.json"))
    assert (result["imported"], result["skipped"]) == (1, 4)


@pytest.mark.parametrize(
    "snapshot, current, reason",
    [
        (Snapshot("kev", rows=3, listed=3, declared=1273), Current(rows=6), "count"),
        (Snapshot("kev", rows=6, listed=6, declared=-1), Current(), "count"),
        (Snapshot("kev", rows=1, skipped=4, listed=5, declared=5), Current(), "skipped"),
        (Snapshot("epss", rows=99, skipped=1), Current(), None),  # exactly 1%
        (Snapshot("epss", rows=98, skipped=2), Current(), "skipped"),
        (Snapshot("epss", rows=90), Current(rows=100), None),  # exactly 90%
        (Snapshot("epss", rows=89), Current(rows=100), "shrunk"),
        (Snapshot("epss", rows=1), Current(rows=0), None),  # a first import
    ],
)
def test_the_sanity_rules_in_isolation(snapshot, current, reason):
    from datetime import UTC, datetime

    problem = refusal(snapshot, current, Limits(), now=datetime(2026, 1, 1, tzinfo=UTC))
    assert (problem.reason if problem else None) == reason


# --- --force ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "feed, name, reason, imported",
    [
        ("kev", "kev_count_1273_carries_3.json", "count", 3),
        ("kev", "kev_one_valid_four_malformed.json", "skipped", 1),
        ("kev", "kev_shrunk_to_3.json", "shrunk", 3),
        ("kev", "kev_stale_older_release.json", "stale", 6),
        ("epss", "epss_one_valid_row.csv", "shrunk", 1),
        ("epss", "epss_stale_older_score_date.csv", "stale", 135),
    ],
)
def test_force_imports_a_refused_snapshot_and_says_which_rule_it_overrode(
    real_snapshot, feed, name, reason, imported
):
    (result,) = _command(f"--{feed}", str(BAD / name), "--force")
    assert (result["imported"], result["forced"]) == (imported, reason)
    event = AuditEvent.objects.filter(kind="config").latest("pk")
    assert event.message.endswith(f"(forced past: {reason})")
    assert stored() != real_snapshot


def test_force_does_not_import_a_file_that_is_not_of_its_format(real_snapshot):
    error = _refused_as("kev", "format", "--kev", str(BAD / "kev_truncated.json"), "--force")
    assert "--force" not in str(error)
    assert stored() == real_snapshot


# --- the process: exit status 2, one line ------------------------------------------------


def test_the_command_exits_2_with_one_line_on_stderr(tmp_path):
    """The real process, as a cron job or a deploy script sees it (its own database)."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'intel.sqlite3'}",
        "DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    manage = [sys.executable, str(Path(__file__).parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*manage, "createcachetable"], env=env, check=True)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*manage, "threat_intel_import", *args], env=env, capture_output=True, text=True
        )

    assert run("--kev", str(REAL_KEV)).returncode == 0
    refused = run("--kev", str(BAD / "kev_count_1273_carries_3.json"))
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("CommandError: kev: refused (count): it declares 1,273")
    forced = run("--kev", str(BAD / "kev_count_1273_carries_3.json"), "--force")
    assert forced.returncode == 0 and json.loads(forced.stdout)["forced"] == "count"


def test_a_refused_epss_file_does_not_hold_back_a_good_kev_catalogue(real_snapshot, tmp_path):
    newer = json.loads(REAL_KEV.read_bytes())
    newer["dateReleased"] = "2025-08-26T10:00:00.000Z"
    path = tmp_path / "kev.json"
    path.write_text(json.dumps(newer))
    out = StringIO()
    with pytest.raises(CommandError, match=r"^epss: refused \(shrunk\)"):
        call_command(
            "threat_intel_import",
            "--epss",
            str(BAD / "epss_one_valid_row.csv"),
            "--kev",
            str(path),
            stdout=out,
        )
    assert json.loads(out.getvalue())["feed"] == "kev"
    assert ThreatIntelFeed.objects.get(feed="kev").released_at.day == 26


# --- a refused automatic refresh is visible ------------------------------------------------


def test_a_refused_beat_refresh_is_audited_counted_and_shown(real_snapshot, httpserver, settings):
    httpserver.expect_request("/kev.json").respond_with_data(
        (BAD / "kev_count_1273_carries_3.json").read_bytes(), content_type="application/json"
    )
    settings.EPSS_URL = ""
    settings.KEV_URL = httpserver.url_for("/kev.json")
    before = refused_metric("kev", "count")

    (answer,) = threat_intel_refresh_task()

    assert answer == {
        "feed": "kev",
        "refused": "count",
        "detail": "it declares 1,273 entries but lists 3 entries",
    }
    assert stored() == real_snapshot
    event = AuditEvent.objects.filter(kind="config").latest("pk")
    assert event.message == (
        "kev import refused (count): it declares 1,273 entries but lists 3 entries"
    )
    assert refused_metric("kev", "count") == before + 1
    feed = ThreatIntelFeed.objects.get(feed="kev")
    assert (feed.refused_reason, feed.rows, feed.version) == ("count", 6, "2025.08.25")

    from django.test import Client

    client = Client()
    client.force_login(make_user("intel-viewer", "Viewer"))
    page = client.get("/findings/").content.decode()
    assert "2025.08.25, released 2025-08-25, 6 CVEs, imported" in page
    assert "last import refused" in page and "(count: it declares 1,273 entries" in page


def test_the_metrics_show_when_each_feed_was_imported(real_snapshot, client, settings):
    settings.METRICS_ALLOW_UNAUTHENTICATED = True
    settings.METRICS_TOKEN = ""
    text = client.get("/metrics").content.decode()
    assert 'remediator_threat_intel_snapshot_rows{feed="kev"} 6.0' in text
    assert 'remediator_threat_intel_snapshot_rows{feed="epss"} 135.0' in text
    assert 'remediator_threat_intel_imported_timestamp_seconds{feed="kev"}' in text


# --- log4shell stays blocked -----------------------------------------------------------


def test_a_kev_policy_still_denies_log4shell_after_a_refused_import(
    real_snapshot, client, django_capture_on_commit_callbacks
):
    ingest(
        vuln("CVE-2021-44228", "log4j-core", version="2.14.1", fixed="2.15.0"),
        image="alpine",
        tag="3.10",
        digest_no=310,
    )  # the image of the sample pod
    AdmissionPolicy.objects.create(name="kev", min_severity="unknown", kev=True)
    pod = sample("pod_alpine_3_10.json")
    assert answer_of(post_review(client, pod))["allowed"] is False

    for name in ("kev_count_1273_carries_3.json", "kev_one_valid_four_malformed.json"):
        with pytest.raises(CommandError):
            _command("--kev", str(BAD / name))

    answer = answer_of(post_review(client, pod))
    assert answer["allowed"] is False
    assert "CVE-2021-44228 (critical, KEV)" in answer["status"]["message"]


# --- the corpus: every bad file, through the command and through the service ----------


@pytest.mark.parametrize("via", ["command", "service"])
@pytest.mark.parametrize("probe", PROBES, ids=[p.id for p in PROBES])
def test_each_bad_feed_file_gets_its_expected_outcome(probe: FeedProbe, via, tmp_path):
    if probe.baseline == "real":
        threat_intel_import(epss=str(REAL_EPSS), kev=str(REAL_KEV))
    before = stored()
    path = str(probe_file(probe, tmp_path))
    if via == "command":
        if probe.outcome == "refused":
            _refused_as(probe.feed, probe.detail, f"--{probe.feed}", path)
            imported = None
        else:
            (result,) = _command(f"--{probe.feed}", path)
            imported = result["imported"]
    else:
        outcome = threat_intel_import(**{probe.feed: path})
        refused = [(r.feed, r.reason) for r in outcome.refused]
        if probe.outcome == "refused":
            assert refused == [(probe.feed, probe.detail)] and not outcome.results
        else:
            assert not refused, outcome.refused
        imported = outcome.results[0].imported if outcome.results else None
    if probe.outcome == "refused":
        assert stored() == before, probe.tries
        assert ThreatIntelFeed.objects.get(feed=probe.feed).refused_reason == probe.detail
    else:
        assert imported == int(probe.detail), probe.tries
        for row in ThreatIntel.objects.all():
            assert not any(ord(c) < 32 for c in row.kev_name + row.kev_ransomware)
            assert len(row.kev_name) <= 300
