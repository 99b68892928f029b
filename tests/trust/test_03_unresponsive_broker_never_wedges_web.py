"""Class 3: a broker that accepts connections and never answers wedges nothing.

Every broker operation is bounded (BROKER_TIMEOUT, remediator/core/broker_timeouts.py),
a process whose publish failed leaves deliveries to the sweep for BROKER_BACKOFF
(remediator/intake/publish.py), /readyz answers within READYZ_TIMEOUT, and the admission path
never opens a broker connection. The broker here is a real listener that accepts and
never writes a byte; the web tier is the Procfile's gunicorn.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from celery import Celery
from django.test import Client

from remediator.celery import app
from remediator.core.broker_timeouts import broker_timeout_options
from remediator.intake.publish import BrokerUnavailable, broker_publish

from ..conftest import FIXTURES
from ._faults_support import SilentListener, gunicorn, manage, timed

TRIVY = (FIXTURES / "trivy/trivy_docs_reporting_alpine_latest.json").read_bytes()
BROKER_TIMEOUT = 3.0  # the default (remediator/settings.py)
READYZ_TIMEOUT = 2.0  # the default
MARGIN = 2.0  # process scheduling on a shared 2-core machine


def distinct_bodies(n: int) -> list[bytes]:
    base = TRIVY.rstrip()[:-1]
    return [base + f', "faults_n": {i}}}'.encode() for i in range(n)]


@pytest.fixture
def listener():
    with SilentListener() as silent:
        yield silent


def refused(task, delivery_id: int) -> BrokerUnavailable:
    with pytest.raises(BrokerUnavailable) as raised:
        broker_publish(task, args=[delivery_id])
    return raised.value


def app_for(url: str, timeout: float) -> Celery:
    """A Celery app configured for ``url`` as remediator/settings.py configures ours."""
    hung = Celery("hung", broker=url, set_as_current=False)
    hung.conf.broker_transport_options = broker_timeout_options(url, timeout)
    hung.conf.broker_connection_timeout = timeout
    return hung


@pytest.mark.parametrize("scheme", ["redis", "amqp"])
def test_a_publish_to_a_broker_that_never_answers_gives_up_within_its_timeout(
    listener, scheme, settings, monkeypatch
):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # Celery lets it win over broker=
    settings.BROKER_BACKOFF = 60.0
    hung = app_for(listener.url(scheme, "/0" if scheme == "redis" else "//"), 1.0)

    # A name of its own, per run: tasks join every app made later (the next run's
    # ``hung`` included), and one under a name taken would be refused with a warning.
    @hung.task(name=f"tests.trust.hung_publish.{scheme}")
    def task(delivery_id: int) -> None:
        """Never runs: nothing consumes from a broker that never answers."""

    seconds, error = timed(lambda: refused(task, 1))
    connections = listener.accepted

    # One connection check, no publish retries: one timeout, however the transport reads.
    assert seconds <= 3 * 1.0 + MARGIN
    assert connections >= 1
    # Within BROKER_BACKOFF the next publish is not tried at all: no new connection.
    again, skipped = timed(lambda: refused(task, 2))
    assert again < 0.5 and listener.accepted == connections
    assert "BROKER_BACKOFF" in str(skipped) and str(skipped) != str(error)


@pytest.mark.django_db(transaction=True)
def test_readyz_answers_within_its_timeout_when_the_broker_never_answers(
    client: Client, listener, monkeypatch, settings, tmp_path
):
    settings.WEBHOOK_SPOOL_DIR = tmp_path / "spool"
    monkeypatch.setitem(app.conf, "broker_write_url", listener.url("redis", "/0"))

    seconds, response = timed(lambda: client.get("/readyz"))

    assert seconds <= settings.READYZ_TIMEOUT + MARGIN
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"]["ok"] is False
    assert checks["database"]["ok"] is True and checks["spool"]["ok"] is True
    assert listener.accepted >= 1


def test_a_broker_that_never_answers_wedges_no_route_of_a_real_gunicorn(listener, tmp_path):
    broker = listener.url("redis", "/0")
    with gunicorn(tmp_path, CELERY_BROKER_URL=broker) as web:
        health, answer = timed(lambda: web.session_get("/healthz"))
        assert answer.status_code == 200 and health <= 1.0

        ready, answer = timed(lambda: web.session_get("/readyz", timeout=30))
        assert answer.status_code == 503 and answer.json()["checks"]["broker"]["ok"] is False
        assert ready <= READYZ_TIMEOUT + MARGIN

        # 20 posts at once: each stored and answered 202 within a bounded time; the web
        # threads that met the hanging broker first leave the rest to the sweep at once.
        before_posts = listener.accepted
        with ThreadPoolExecutor(20) as pool:
            results = list(pool.map(web.timed_post, distinct_bodies(20)))
        assert [r.status_code for _, r in results] == [202] * 20, [r.text for _, r in results]
        assert max(seconds for seconds, _ in results) <= 3 * BROKER_TIMEOUT + MARGIN
        assert listener.accepted - before_posts < 20  # not one broker wait per post
        print(
            f"\n20 posts: slowest {max(t for t, _ in results):.2f} s, broker connections "
            f"{listener.accepted - before_posts}; /readyz {ready:.2f} s"
        )

        # Afterwards the process answers at once, and admission never asks the broker.
        health, answer = timed(lambda: web.session_get("/healthz"))
        assert answer.status_code == 200 and health <= 1.0
        before_review = listener.accepted
        review, answer = timed(web.review)
        assert answer.status_code == 200, answer.text
        assert answer.json()["response"]["allowed"] in (True, False)
        assert review <= 1.0
        assert listener.accepted == before_review

        with web.database() as db:
            rows = db.execute("SELECT status, enqueued_at FROM findings_delivery").fetchall()
        assert rows == [("queued", None)] * 20  # stored, and waiting for the sweep

        # manage.py ingest commits, then does not hang on the policy evaluation: the
        # broker gives up within its timeout, the evaluation runs in the command, and
        # stderr says so.
        report = tmp_path / "report.json"
        report.write_bytes(TRIVY)
        seconds, ingested = timed(lambda: manage(web.env, "ingest", str(report)))
        assert ingested.returncode == 0, ingested.stderr[-2000:]
        assert json.loads(ingested.stdout)["findings"] == 2
        assert "the broker did not take its policy evaluation" in ingested.stderr
        assert "Traceback" not in ingested.stderr
        assert seconds <= 3 * BROKER_TIMEOUT + 20  # + starting Django and ingesting

    # The broker is real again (the embedded one): the sweep hands every delivery over.
    real = {k: v for k, v in web.env.items() if k != "CELERY_BROKER_URL"}
    swept = manage(
        real,
        "shell",
        "-c",
        "from remediator.intake.queue import delivery_sweep; "
        "print(len(delivery_sweep(older_than=0, requeue_after=0)))",
    )
    assert swept.returncode == 0, swept.stderr[-2000:]
    assert swept.stdout.strip().splitlines()[-1] == "20"  # the posts (ingest processed its own)
    with web.database() as db:
        waiting = (
            "SELECT count(*) FROM findings_delivery WHERE status = 'queued' AND enqueued_at IS NULL"
        )
        assert db.execute(waiting).fetchone() == (0,)


def test_the_settings_bound_every_broker_operation_by_broker_timeout(settings):
    redis = broker_timeout_options("redis://broker:6379/0", 3.0)
    assert redis == {"socket_connect_timeout": 3.0, "socket_timeout": 3.0}
    assert broker_timeout_options("rediss://broker:6380/0", 2.0)["socket_timeout"] == 2.0
    assert broker_timeout_options("sqla+postgresql://db/broker", 2.5) == {
        "connect_args": {"connect_timeout": 3}
    }
    # amqp's handshake is bounded by broker_connection_timeout; SQLite is a local file.
    assert broker_timeout_options("amqp://guest@rabbit//", 3.0) == {}
    assert broker_timeout_options("sqlite-embedded+sqlite:///x.sqlite3", 3.0) == {}
    assert app.conf.broker_connection_timeout == settings.BROKER_TIMEOUT
    configured = broker_timeout_options(app.conf.broker_url, settings.BROKER_TIMEOUT)
    assert configured.items() <= app.conf.broker_transport_options.items()
