"""An admission review is answered within 1 s while the other routes are loaded.

The stack of conftest.py, plus the admission pool the Procfile's note describes (its
``# admission:`` line: the same app in a gunicorn of its own, as the Helm chart runs
the remediator-admission Deployment). For about 30 s, on the Procfile's ``web``:
policy backtests over 90 days from three Viewers (API and the Policies page), large
Trivy reports of 3,000 findings posted as webhooks (ingested by the worker, whose queue
the test lets drain before the next scenario), dashboard pages; and on
the admission pool itself, two reviews of 5,000 containers a second (refused unjudged).
Meanwhile a normal review (half of them of an image a real Trivy report scanned, half of
never-scanned digests) is posted to the admission pool every 0.2 s: every one must be
a well-formed AdmissionReview answered within 1 s (the webhook's timeoutSeconds is 5 and
the decision's own deadline, ADMISSION_DEADLINE_SECONDS, 2). The same review posted to
the loaded ``web`` is measured for the table, not asserted: it shows why the pool is
separate.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from pathlib import Path

import requests

from .conftest import WEBHOOK_SECRET
from .reports import REGISTRY, big_report, digest_of, sample_report
from .stack import REPO, Proc, free_port, wait_for

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "admission"
ADMISSION_TOKEN = "faults-admission-" + uuid.uuid4().hex
LOAD_SECONDS = 30
DEADLINE = 1.0
USERS = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
viewers = Group.objects.get(name="Viewer")
for n in range(3):
    user, _ = User.objects.get_or_create(username=f"faults-viewer-{n}")
    user.set_password("faults-viewer-password")
    user.save()
    user.groups.add(viewers)
    print(Token.objects.get_or_create(user=user)[0].key)
"""


def admission_command() -> str:
    """The Procfile's note: its commented ``admission:`` line."""
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith("# admission: "):
            return line.removeprefix("# admission: ")
    raise AssertionError("the Procfile has no '# admission:' note")


def start_admission_pool(stack) -> tuple[Proc, str]:
    port = free_port()
    env = {
        **stack.app.env,
        "ADMISSION_PORT": str(port),
        "ADMISSION_TOKEN": ADMISSION_TOKEN,
        "PGAPPNAME": "faults-admission",
    }
    proc = Proc(
        "admission",
        ["bash", "-c", f"exec {admission_command()}"],
        env=env,
        log=stack.logs / "admission.log",
        root=stack.root,
    ).start()
    url = f"http://127.0.0.1:{port}"
    wait_for("admission pool ready", lambda: requests.get(f"{url}/healthz", timeout=2).ok, 90)
    return proc, url


def review(image: str) -> bytes:
    body = json.loads((FIXTURES / "pod_alpine_3_10.json").read_text())
    body["request"]["uid"] = str(uuid.uuid4())
    body["request"]["object"]["spec"]["containers"][0]["image"] = image
    return json.dumps(body).encode()


def huge_review() -> bytes:
    body = json.loads((FIXTURES / "pod_alpine_3_10.json").read_text())
    body["request"]["uid"] = str(uuid.uuid4())
    body["request"]["object"]["spec"]["containers"] = [
        {"name": f"c{n}", "image": f"registry.example.com/pad/i{n}:1"} for n in range(5000)
    ]
    return json.dumps(body).encode()


def signed_in(web_url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{web_url}/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = session.post(
        f"{web_url}/login/",
        data={
            "username": username,
            "password": "faults-viewer-password",
            "csrfmiddlewaretoken": token,
        },
        headers={"Referer": f"{web_url}/login/"},
        timeout=30,
    )
    assert done.ok and "sessionid" in session.cookies, done.status_code
    return session


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def add(self, what: str) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1


def loop(stop: threading.Event, tally: Tally, name: str, call) -> None:
    while not stop.is_set():
        try:
            status = call()
        except requests.RequestException as exc:
            status = type(exc).__name__
        tally.add(f"{name} {status}")


def timed_post(url: str, body: bytes) -> tuple[float, int, dict]:
    started = time.monotonic()
    try:
        response = requests.post(
            f"{url}/api/v1/admission/validate",
            data=body,
            headers={
                "Authorization": f"Bearer {ADMISSION_TOKEN}",
                "Content-Type": "application/json",
            },
            timeout=10,
        )
        answer = response.json() if response.status_code == 200 else {}
        return time.monotonic() - started, response.status_code, answer
    except (requests.RequestException, ValueError):
        return time.monotonic() - started, 0, {}


def drain(stack, timeout: float = 600) -> float:
    """Seconds until no delivery waits for the worker (the load's reports ingested)."""
    started = time.monotonic()
    wait_for(
        "the webhook load ingested",
        lambda: (
            stack.pg.scalar("SELECT count(*) FROM findings_delivery WHERE status = 'queued'") == 0
        ),
        timeout,
        every=2,
    )
    return time.monotonic() - started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


def test_admission_review_answered_within_1s_while_other_routes_are_loaded(stack, record):
    started = time.monotonic()
    tokens = stack.app.manage("shell", "-c", USERS).split()[-3:]
    policy = stack.pg.scalar("SELECT id FROM remediator_policy WHERE name = 'faults-dispatch'")
    admission, admission_url = start_admission_pool(stack)
    web = stack.web_url
    stack.app.procs["admission"] = admission  # stopped with the rest, whatever happens
    sessions = [signed_in(web, f"faults-viewer-{n}") for n in range(3)]
    scanned = sample_report("admission-load", 0)  # a real Trivy report: the image reviewed
    known = json.loads(scanned)["Metadata"]["RepoDigests"][0]
    stop, tally = threading.Event(), Tally()

    def backtest(token: str):
        days = random.randint(1, 90)  # many windows: most runs miss the cache
        return requests.get(
            f"{web}/api/v1/policies/{policy}/backtest/?days={days}",
            headers={"Authorization": f"Token {token}"},
            timeout=120,
        ).status_code

    def big_post():
        time.sleep(1)  # a sender's pace: the worker drains it within a few minutes
        body = big_report(3000, f"{REGISTRY}/load", f"big{random.randint(0, 10**9)}")
        return requests.post(
            f"{web}/api/v1/webhooks/trivy/",
            data=body,
            headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
            timeout=120,
        ).status_code

    def page(session: requests.Session):
        path = random.choice(["/", "/findings/", "/images/", "/audit/", "/policies/?days=90"])
        return session.get(f"{web}{path}", timeout=120).status_code

    def hostile():
        time.sleep(0.5)
        return timed_post(admission_url, huge_review())[1]

    posted = requests.post(
        f"{web}/api/v1/webhooks/trivy/",
        data=scanned,
        headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
        timeout=60,
    )
    assert posted.status_code == 202, posted.text  # `known` is judged from its findings
    workers = [
        *(
            threading.Thread(target=loop, args=(stop, tally, "backtest", lambda t=t: backtest(t)))
            for t in tokens
        ),
        *(threading.Thread(target=loop, args=(stop, tally, "webhook", big_post)) for _ in range(2)),
        *(
            threading.Thread(target=loop, args=(stop, tally, "page", lambda s=s: page(s)))
            for s in sessions
        ),
        threading.Thread(target=loop, args=(stop, tally, "review-5000", hostile)),
    ]
    for worker in workers:
        worker.start()
    own, shared, bad = [], [], []
    try:
        time.sleep(3)  # the load is under way
        until = time.monotonic() + LOAD_SECONDS
        n = 0
        while time.monotonic() < until:
            image = known if n % 2 else f"registry.example.com/faults/unscanned@{digest_of(str(n))}"
            seconds, status, answer = timed_post(admission_url, review(image))
            own.append(seconds)
            if status != 200 or answer.get("kind") != "AdmissionReview":
                bad.append((status, answer))
            if n % 5 == 0:  # the same review through the loaded web pool, for the table
                shared.append(timed_post(web, review(image))[0])
            n += 1
            time.sleep(0.2)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=150)
        admission.stop()
        drained = drain(stack)  # the next scenarios start on an idle worker
    load = dict(sorted(tally.counts.items()))
    note = (
        f"own pool: max {max(own):.3f} s, p99 {percentile(own, 0.99):.3f} s, "
        f"p50 {percentile(own, 0.5):.3f} s over {len(own)} reviews; through the loaded web: "
        f"max {max(shared, default=0):.3f} s; load {load}; queue drained in {drained:.0f} s"
    )
    record(
        "admission review under load",
        sent=len(own),
        ok=len(own) - len(bad),
        stored=len(own) - len(bad),
        processed=sum(s < DEADLINE for s in own),
        lost=len(bad),
        duplicated=0,
        seconds=time.monotonic() - started,
        note=note,
    )
    assert not bad, bad[:3]
    assert max(own) < DEADLINE, note
    assert sum(v for k, v in load.items() if k.startswith("backtest 200")) >= 1, load
    assert sum(v for k, v in load.items() if k.startswith("backtest 429")) >= 1, load
    assert sum(v for k, v in load.items() if k.startswith("webhook 202")) >= 1, load
    assert sum(v for k, v in load.items() if k.startswith("page 200")) >= 3, load
