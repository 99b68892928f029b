"""Faults that hang instead of failing, against the real stack (see conftest.py):

6. a broker that accepts connections and never answers: a second web process of the
   Procfile, its CELERY_BROKER_URL at a listener that never writes a byte, takes a burst
   of webhooks and admission reviews; every route answers within its deadline, and the
   stack's real worker and beat process every body once (the delivery sweep);
7. PostgreSQL frozen (SIGSTOP of the postmaster and every backend) for 15 s while four
   senders post: every post answered 2xx (spooled or stored), lost 0, duplicated 0;
8. delivery tasks taken by the worker while PostgreSQL is stopped, beat (the sweep)
   stopped too: each retries through the broker and is processed by its own retry
   soon after the database is back.

Figures as in test_faults.py (sent, 2xx, stored, processed, lost, duplicated, seconds).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.trust._faults_support import REVIEW, SilentListener

from .conftest import WEBHOOK_SECRET
from .reports import sample_report
from .stack import free_port, wait_for
from .test_faults import codes_note, extra_scans_per_tag, post, settle, sha

HEADERS = {"Authorization": f"Bearer {WEBHOOK_SECRET}", "Content-Type": "application/json"}
ADMISSION_TOKEN = "faults-admission-0123456789abcdef"
BROKER_TIMEOUT = 3.0  # the default (remediator/settings.py)
READYZ_TIMEOUT = 2.0  # the default
ADMISSION_DEADLINE = 5.0  # the Helm chart's webhook.timeoutSeconds
MARGIN = 2.0
DATABASE_CONNECT_TIMEOUT = 5.0  # the default: how long a post may hold a web thread


def timed(call):
    started = time.monotonic()
    try:
        result = call()
    except requests.RequestException as exc:
        result = exc
    return time.monotonic() - started, result


def status_of(result) -> int:
    return result.status_code if isinstance(result, requests.Response) else 0


def test_6_broker_that_never_answers(stack, record):
    started = time.monotonic()
    bodies = [sample_report("hungbroker", i) for i in range(40)]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with SilentListener() as broker:
        web = stack.app.start_with(
            "web-hung-broker",
            "web",
            CELERY_BROKER_URL=broker.url("redis", "/0"),
            PORT=str(port),
            ADMISSION_TOKEN=ADMISSION_TOKEN,
        )
        try:
            wait_for("web-hung-broker up", lambda: requests.get(f"{url}/healthz", timeout=2).ok, 90)
            ready_s, ready = timed(lambda: requests.get(f"{url}/readyz", timeout=30))

            def webhook(body):
                return timed(
                    lambda: requests.post(
                        f"{url}/api/v1/webhooks/trivy/", data=body, headers=HEADERS, timeout=60
                    )
                )

            def review():
                return timed(
                    lambda: requests.post(
                        f"{url}/api/v1/admission/validate",
                        data=REVIEW,
                        headers={"Authorization": f"Bearer {ADMISSION_TOKEN}"},
                        timeout=30,
                    )
                )

            with ThreadPoolExecutor(24) as pool:
                posts = [pool.submit(webhook, body) for body in bodies]
                during = [pool.submit(review) for _ in range(4)]
                posts = [f.result() for f in posts]
                during = [f.result() for f in during]
            health_s, health = timed(lambda: requests.get(f"{url}/healthz", timeout=30))
            after_s, after = review()
            connections = broker.accepted
        finally:
            web.stop()
    codes = [status_of(r) for _, r in posts]
    shas = {sha(b) for b in bodies}
    got = settle(stack, shas, timeout=240)  # the real worker; beat's sweep hands them over
    got["duplicated"] += extra_scans_per_tag(stack, "faults/hungbroker")
    slowest = max(s for s, _ in posts)
    review_during = max(s for s, _ in during)
    record(
        "6 broker never answers",
        sent=len(bodies),
        ok=sum(200 <= c < 300 for c in codes),
        stored=got["stored"],
        processed=got["processed"],
        lost=len(bodies) - got["stored"],
        duplicated=got["duplicated"],
        seconds=time.monotonic() - started,
        note=f"answers {codes_note(codes)}; slowest post {slowest:.1f} s; /readyz "
        f"{status_of(ready)} in {ready_s:.1f} s; admission during the burst {review_during:.2f}"
        f" s, after {after_s:.2f} s; /healthz after {health_s:.2f} s; {connections} broker "
        f"connections for {len(bodies)} posts; processed by the sweep {got['statuses']}",
    )
    assert codes == [202] * len(bodies)
    assert slowest <= 3 * BROKER_TIMEOUT + MARGIN
    assert status_of(ready) == 503 and ready.json()["checks"]["broker"]["ok"] is False
    assert ready_s <= READYZ_TIMEOUT + MARGIN
    assert all(status_of(r) == 200 for _, r in during) and review_during <= ADMISSION_DEADLINE
    assert status_of(after) == 200 and after_s <= 1.0
    assert status_of(health) == 200 and health_s <= 1.0
    assert got["stored"] == len(bodies) and got["duplicated"] == 0
    assert got["processed"] == len(bodies)


def test_7_database_frozen_15s_during_traffic(stack, record):
    started = time.monotonic()
    counter = itertools.count()
    sent: list[tuple[str, int, float, float]] = []  # sha, status, sent at, seconds
    spooled = itertools.count()
    lock = threading.Lock()
    stop = threading.Event()

    def sender():
        while not stop.is_set():
            body = sample_report("frozen", next(counter))
            at = time.monotonic()
            code, answer = post(stack, body, timeout=90)
            if answer.get("status") == "spooled":
                next(spooled)
            with lock:
                sent.append((sha(body), code, at, time.monotonic() - at))
            time.sleep(0.2)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(6)
    pids = stack.pg.freeze()
    frozen = time.monotonic()
    try:
        time.sleep(3)
        ready_s, ready = timed(lambda: requests.get(f"{stack.web_url}/readyz", timeout=30))
        time.sleep(12 - ready_s)
    finally:
        stack.pg.thaw(pids)
    thawed = time.monotonic()
    time.sleep(8)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    codes = [code for _, code, _, _ in sent]
    shas = {s for s, _, _, _ in sent}
    got = settle(stack, shas, timeout=240)
    got["duplicated"] += extra_scans_per_tag(stack, "faults/frozen")
    # Posts started while the server was frozen: answered within the connect timeout
    # (spooled), or, when they were mid-query at the freeze, once it was thawed.
    during = [s for _, _, at, s in sent if frozen <= at < thawed]
    slowest = max(during) if during else 0.0
    record(
        "7 database frozen (SIGSTOP) 15 s",
        sent=len(sent),
        ok=sum(200 <= c < 300 for c in codes),
        stored=got["stored"],
        processed=got["processed"],
        lost=len(shas) - got["stored"],
        duplicated=got["duplicated"],
        seconds=time.monotonic() - started,
        note=f"answers {codes_note(codes)} ({next(spooled)} spooled); frozen "
        f"{thawed - frozen:.0f} s; {len(during)} posts sent while frozen, slowest answer "
        f"{slowest:.1f} s; /readyz {status_of(ready)} in "
        f"{ready_s:.1f} s while frozen; {got['statuses']}",
    )
    assert all(200 <= c < 300 for c in codes), codes_note(codes)
    assert len(shas) - got["stored"] == 0, "lost"
    assert got["duplicated"] == 0
    assert got["processed"] == len(shas)
    assert during and slowest <= (thawed - frozen) + MARGIN
    # The view answers within READYZ_TIMEOUT (each check's own time says so); the request
    # itself may first wait for a gunicorn thread that a post holds while the database
    # connect times out, so the wall-clock bound adds that one wait.
    assert status_of(ready) == 503
    assert all(c["ms"] <= (READYZ_TIMEOUT + 0.5) * 1000 for c in ready.json()["checks"].values())
    assert ready_s <= READYZ_TIMEOUT + DATABASE_CONNECT_TIMEOUT + MARGIN


def test_8_delivery_tasks_taken_while_the_database_is_down(stack, record):
    """Beat is stopped for the scenario: no sweep runs, so only the tasks' own retries can
    process the deliveries (before, a task taken while the database was down was
    acknowledged and dropped, and only the sweep brought its delivery back)."""
    started = time.monotonic()
    stack.app.procs["beat"].stop()
    stack.app.procs["worker"].stop()
    bodies = [sample_report("retrydb", i) for i in range(12)]
    try:
        codes = [post(stack, body)[0] for body in bodies]  # stored and queued; no worker yet
        stack.pg.stop("fast")
        try:
            stack.start_worker()  # it takes the queued tasks while the database is down
            worker = stack.app.procs["worker"]
            wait_for(
                "the worker retrying tasks", lambda: _outage_retries(worker) >= len(bodies), 120
            )
        finally:
            stack.pg.start()
        back = time.monotonic()
        shas = {sha(b) for b in bodies}
        got = settle(stack, shas, timeout=120, quiet=60)
        after = time.monotonic() - back
    finally:
        stack.app.start("beat")
    got["duplicated"] += extra_scans_per_tag(stack, "faults/retrydb")
    record(
        "8 tasks taken while the database is down",
        sent=len(bodies),
        ok=sum(200 <= c < 300 for c in codes),
        stored=got["stored"],
        processed=got["processed"],
        lost=len(bodies) - got["stored"],
        duplicated=got["duplicated"],
        seconds=time.monotonic() - started,
        note=f"{_outage_retries(worker)} retries while PostgreSQL was stopped; beat (the sweep) "
        f"stopped; all processed by their own retries {after:.0f} s after it was back",
    )
    assert codes == [202] * len(bodies)
    assert got["stored"] == len(bodies) and got["duplicated"] == 0
    assert got["processed"] == len(bodies), "tasks dropped: nothing but their retry could run them"


def _outage_retries(worker) -> int:
    """Delivery tasks the worker retried because the database was unavailable, since the
    worker was started."""
    with open(worker.log, "rb") as log:
        log.seek(worker.log_offset)
        text = log.read().decode(errors="replace")
    return len(re.findall(r"the database is unavailable, retrying", text))
