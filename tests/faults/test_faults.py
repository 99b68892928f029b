"""Faults a bad day in production brings, against the real stack (see conftest.py).

Each scenario prints its figures and asserts lost = 0 and duplicated = 0:

- sent: bodies posted (scenario 3: approved actions);
- 2xx: of those, answered 2xx;
- stored: distinct bodies found as deliveries at the end (scenario 3: the action row);
- processed: deliveries processed with exactly their scan (scenario 3: the action's CI run
  followed, i.e. running or beyond with the pipeline's id);
- lost: sent but not stored (scenario 3: an approved rebuild that never reached CI);
- duplicated: extra deliveries for one body + extra scans for one delivery or image tag
  (scenario 2 also extra findings; scenario 3 extra CI triggers for one correlation id).

Senders do not retry (Aqua does not), so a body answered 5xx and not stored is lost.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from .conftest import WEBHOOK_SECRET
from .reports import REGISTRY, SAMPLES, big_report, readdressed, sample_report

HEADERS = {"Authorization": f"Bearer {WEBHOOK_SECRET}", "Content-Type": "application/json"}


def post(stack, body: bytes, timeout: float = 60) -> tuple[int, dict]:
    """One webhook post; status 0 when no answer came (connection refused, timeout)."""
    try:
        response = requests.post(
            f"{stack.web_url}/api/v1/webhooks/trivy/", data=body, headers=HEADERS, timeout=timeout
        )
    except requests.RequestException:
        return 0, {}
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return response.status_code, answer if isinstance(answer, dict) else {}


def sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def deliveries(stack, shas) -> dict:
    """Figures for the bodies with these hashes, read from the database."""
    rows = stack.pg.query(
        """SELECT d.sha256, d.status, count(s.id)
           FROM findings_delivery d LEFT JOIN findings_scan s ON s.delivery_id = d.id
           WHERE d.sha256 = ANY(%s) GROUP BY d.id""",
        [list(shas)],
    )
    stored = {r[0] for r in rows}
    processed = {r[0] for r in rows if r[1] == "processed" and r[2] == 1}
    extra = (len(rows) - len(stored)) + sum(max(0, r[2] - 1) for r in rows)
    return {
        "stored": len(stored),
        "processed": len(processed),
        "duplicated": extra,
        "statuses": sorted({r[1] for r in rows}),
    }


def extra_scans_per_tag(stack, repository: str) -> int:
    """Scans beyond one per tag of ``registry.example.com/<repository>`` (each body that
    the suite sends names a tag of its own)."""
    return int(
        stack.pg.scalar(
            """SELECT coalesce(sum(n - 1), 0) FROM (
             SELECT count(*) AS n FROM findings_scan s
             JOIN findings_tag t ON t.id = s.tag_id
             JOIN findings_repository r ON r.id = t.repository_id
             WHERE r.registry = 'registry.example.com' AND r.name = %s GROUP BY t.id) x""",
            [repository],
        )
    )


def settle(stack, shas, timeout: float, quiet: float = 60) -> dict:
    """Wait until every body is stored and processed; give up at ``timeout``, or when
    nothing has changed for ``quiet`` seconds."""
    deadline, last, changed = time.monotonic() + timeout, None, time.monotonic()
    while True:
        try:
            now = deliveries(stack, shas)
        except Exception:  # the database is coming back
            now = last or {"stored": 0, "processed": 0, "duplicated": 0, "statuses": []}
        if now["processed"] == len(shas):
            return now
        if now != last:
            last, changed = now, time.monotonic()
        if time.monotonic() > deadline or time.monotonic() - changed > quiet:
            return now
        time.sleep(1)


def send_all(stack, bodies: list[bytes], concurrency: int) -> list[int]:
    with ThreadPoolExecutor(concurrency) as pool:
        return [code for code, _ in pool.map(lambda b: post(stack, b), bodies)]


def codes_note(codes: list[int]) -> str:
    counts = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    return " ".join(f"{code}x{n}" for code, n in sorted(counts.items()))


def test_1_broker_down_while_200_webhooks_arrive(stack, record):
    started = time.monotonic()
    bodies = [sample_report("broker", i) for i in range(200)]
    stack.redis.stop()
    try:
        codes = send_all(stack, bodies, concurrency=8)
        down_for = time.monotonic() - started
    finally:
        stack.redis.start()
    shas = {sha(b) for b in bodies}
    got = settle(stack, shas, timeout=240)
    got["duplicated"] += extra_scans_per_tag(stack, "faults/broker")
    ok = sum(200 <= c < 300 for c in codes)
    record(
        "1 broker down, 200 webhooks",
        sent=len(bodies),
        ok=ok,
        stored=got["stored"],
        processed=got["processed"],
        lost=len(bodies) - got["stored"],
        duplicated=got["duplicated"],
        seconds=time.monotonic() - started,
        note=f"answers {codes_note(codes)}; Redis down {down_for:.0f} s; {got['statuses']}",
    )
    assert codes == [202] * len(bodies)
    assert got["stored"] == len(bodies), "lost"
    assert got["duplicated"] == 0
    assert got["processed"] == len(bodies)


def worker_transaction_age(stack) -> float:
    """Seconds the worker's database session has been inside one transaction (0: none)."""
    return stack.pg.scalar(
        """SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0)
           FROM pg_stat_activity WHERE application_name = 'faults-worker'
           AND state IN ('active', 'idle in transaction') AND xact_start IS NOT NULL"""
    )


def test_2_worker_killed_mid_ingest_of_20k_findings(stack, record):
    started = time.monotonic()
    size = 20_000
    body = big_report(size, f"{REGISTRY}/ingest", "big")
    code, answer = post(stack, body, timeout=120)
    assert code == 202, answer
    delivery = answer["delivery"]

    def in_ingest():  # the transaction of a 20k-finding ingest lasts about a second
        age = float(worker_transaction_age(stack))
        return age if age >= 0.4 else None

    age = stack_wait(in_ingest, "the worker inside the ingest transaction", 180, every=0.05)
    stack.kill_worker()
    killed = time.monotonic()
    time.sleep(1)
    scans_at_kill = stack.pg.scalar(
        "SELECT count(*) FROM findings_scan WHERE delivery_id = %s", [delivery]
    )
    stack.start_worker()
    got = settle(stack, {sha(body)}, timeout=300, quiet=200)
    redelivered = time.monotonic() - killed
    time.sleep(5)  # a second run, were there one, would show by now
    scans = stack.pg.query(
        "SELECT id, findings_count FROM findings_scan WHERE delivery_id = %s", [delivery]
    )
    scan_findings = stack.pg.scalar(  # each scan's finding set is one row (issue 12)
        "SELECT coalesce(sum(count), 0) FROM findings_scanfindingset WHERE scan_id = ANY(%s)",
        [[s[0] for s in scans]],
    )
    findings = stack.pg.scalar(
        """SELECT count(*) FROM findings_finding f JOIN findings_repository r
           ON r.id = f.repository_id WHERE r.registry = 'registry.example.com'
           AND r.name = 'faults/ingest'"""
    )
    status = stack.pg.scalar("SELECT status FROM findings_delivery WHERE id = %s", [delivery])
    duplicated = max(0, len(scans) - 1) + max(0, findings - size) + max(0, scan_findings - size)
    record(
        "2 worker kill -9 mid-ingest (20k)",
        sent=1,
        ok=1,
        stored=1,
        processed=int(status == "processed" and len(scans) == 1 and scan_findings == size),
        lost=int(status != "processed"),
        duplicated=duplicated,
        seconds=time.monotonic() - started,
        note=f"killed {age:.1f} s into the ingest transaction ({scans_at_kill} scan committed "
        f"then); processed {redelivered:.0f} s after the kill; scans={len(scans)}, "
        f"scan findings={scan_findings}, findings={findings}, delivery {status}",
    )
    assert scans_at_kill == 0, "the kill came after the ingest committed: not mid-ingest"
    assert got["processed"] == 1 and status == "processed"
    assert len(scans) == 1 and scans[0][1] == size and scan_findings == size
    assert findings == size
    assert duplicated == 0


def stack_wait(check, what: str, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:
            value = None
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def api(stack, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Token {stack.approver_token}"}
    return requests.request(method, f"{stack.web_url}{path}", headers=headers, timeout=30, **kwargs)


def test_3_worker_killed_mid_dispatch_of_approved_rebuild(stack, record):
    started = time.monotonic()
    alpine = SAMPLES["trivy_alpine-39.json"]  # two fixable criticals
    repository = f"{REGISTRY}/dispatch"
    fig = {"ok": 0, "stored": 0, "state": "-", "external_id": "", "triggers": [], "note": ""}
    correlation = ""
    try:
        code, answer = post(stack, readdressed(alpine, repository, "1"))
        assert code == 202, answer

        def awaiting():
            found = api(stack, "GET", "/api/v1/actions/", params={"image": repository}).json()
            return next((a for a in found["results"] if a["state"] == "awaiting_approval"), None)

        action = stack_wait(awaiting, "a rebuild awaiting approval", 120)
        fig["stored"] = 1
        action_id, correlation = action["id"], action["correlation_id"]
        stack.fake.hold(300)
        approve = api(
            stack, "POST", f"/api/v1/actions/{action_id}/approve/", json={"reason": "faults"}
        )
        fig["ok"] = int(approve.ok)
        assert approve.status_code == 200, approve.text
        stack_wait(
            lambda: stack.fake.triggers(correlation), "the trigger reaching the fake GitLab", 90
        )
        time.sleep(0.5)
        stack.kill_worker()
        killed = time.monotonic()
        stack.fake.release()  # the held answer now goes to a dead socket
        stack.start_worker()

        def followed():
            state = api(stack, "GET", f"/api/v1/actions/{action_id}/").json()
            return state if state["state"] not in ("approved", "dispatched") else None

        try:
            final = stack_wait(followed, "the action followed after redelivery", 240, every=1)
        except AssertionError:
            final = api(stack, "GET", f"/api/v1/actions/{action_id}/").json()
        fig["note"] = f" {time.monotonic() - killed:.0f} s after the kill"
        time.sleep(5)  # a late second trigger would have arrived by now
        fig["state"], fig["external_id"] = final["state"], final.get("external_id") or ""
    finally:
        stack.fake.release()
        fig["triggers"] = stack.fake.triggers(correlation) if correlation else []
        done = fig["state"] in ("running", "succeeded", "verified") and bool(fig["external_id"])
        record(
            "3 worker kill -9 mid-dispatch",
            sent=1,
            ok=fig["ok"],
            stored=fig["stored"],
            processed=int(done),
            lost=int(not done and fig["state"] != "failed"),
            duplicated=max(0, len(fig["triggers"]) - 1),
            seconds=time.monotonic() - started,
            note=f"CI triggers for the correlation id: {len(fig['triggers'])} (pipelines "
            f"{[t['id'] for t in fig['triggers']]}); action {fig['state']}, external_id "
            f"{fig['external_id'] or '-'}{fig['note']}",
        )
    assert len(fig["triggers"]) == 1, f"{len(fig['triggers'])} CI triggers for one rebuild"
    assert done, f"the action ended {fig['state']}, not followed to its CI run"


def test_5_hundred_concurrent_identical_deliveries(stack, record):
    started = time.monotonic()
    body = sample_report("same", 0)
    barrier = threading.Barrier(100)

    def one(_):
        session = requests.Session()
        barrier.wait(timeout=60)
        try:
            return session.post(
                f"{stack.web_url}/api/v1/webhooks/trivy/", data=body, headers=HEADERS, timeout=120
            ).status_code
        except requests.RequestException:
            return 0
        finally:
            session.close()

    with ThreadPoolExecutor(100) as pool:
        codes = list(pool.map(one, range(100)))
    got = settle(stack, {sha(body)}, timeout=120)
    rows = stack.pg.query("SELECT count(*) FROM findings_delivery WHERE sha256 = %s", [sha(body)])
    scans = stack.pg.scalar(
        """SELECT count(*) FROM findings_scan s JOIN findings_repository r
           ON r.id = (SELECT repository_id FROM findings_tag WHERE id = s.tag_id)
           WHERE r.registry = 'registry.example.com' AND r.name = 'faults/same'"""
    )
    duplicated = (rows[0][0] - 1 if rows[0][0] else 0) + max(0, scans - 1)
    record(
        "5 100 identical at once",
        sent=100,
        ok=sum(200 <= c < 300 for c in codes),
        stored=got["stored"],
        processed=got["processed"],
        lost=1 - got["stored"],
        duplicated=duplicated,
        seconds=time.monotonic() - started,
        note=f"answers {codes_note(codes)}; deliveries={rows[0][0]}, scans={scans}",
    )
    assert sorted(codes) == [200] * 99 + [202]
    assert rows[0][0] == 1 and scans == 1
    assert got["processed"] == 1


def test_4_database_down_20s_during_traffic(stack, record):
    started = time.monotonic()
    counter = itertools.count()
    sent: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender():
        while not stop.is_set():
            body = sample_report("dbdown", next(counter))
            code, _ = post(stack, body, timeout=60)
            with lock:
                sent.append((sha(body), code))
            time.sleep(0.2)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(8)
    stack.pg.stop("fast")
    down = time.monotonic()
    try:
        time.sleep(20)
    finally:
        stack.pg.start()
    down_for = time.monotonic() - down
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    codes = [code for _, code in sent]
    shas = {s for s, _ in sent}
    got = settle(stack, shas, timeout=240)
    got["duplicated"] += extra_scans_per_tag(stack, "faults/dbdown")
    spooled = (
        list((stack.root / "data" / "spool").rglob("*"))
        if (stack.root / "data" / "spool").exists()
        else []
    )
    record(
        "4 database down 20 s",
        sent=len(sent),
        ok=sum(200 <= c < 300 for c in codes),
        stored=got["stored"],
        processed=got["processed"],
        lost=len(shas) - got["stored"],
        duplicated=got["duplicated"],
        seconds=time.monotonic() - started,
        note=f"answers {codes_note(codes)}; PostgreSQL down {down_for:.0f} s; "
        f"{len([p for p in spooled if p.is_file()])} file(s) left in the spool; {got['statuses']}",
    )
    assert len(shas) - got["stored"] == 0, "lost"
    assert got["duplicated"] == 0
    assert all(200 <= c < 300 for c in codes)
    assert got["processed"] == len(shas)
