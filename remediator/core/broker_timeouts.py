"""Transport options that bound every blocking broker operation, per broker kind.

A broker that accepts connections and never answers (a stopped process, a
half-open connection behind a NAT or a failover) would otherwise hold the caller
for ever: kombu's Redis transport and redis-py wait without limit by default, and
``ensure_connection(timeout=...)`` only limits the time *between* attempts, not an
attempt that blocks. What bounds each kind (measured against a listener that
accepts and never answers, ``tests/trust/test_03_unresponsive_broker_never_wedges_web.py``):

- Redis (``redis://``, ``rediss://``, ``sentinel://``): ``socket_connect_timeout``
  and ``socket_timeout``, per blocking read. A publish makes up to three reads
  (connection check, binding lookup, push), so one publish waits at most about
  three timeouts; redis-py does not retry a timed-out command under kombu's pool.
- RabbitMQ (``amqp://``, ``pyamqp://``): the connection handshake is bounded by
  Celery's ``broker_connection_timeout`` (set from the same value in settings);
  a publish only writes to the socket.
- SQLAlchemy (``sqla+postgresql://``...): kombu hands these options to
  ``create_engine``: a libpq ``connect_timeout``. The embedded SQLite broker is a
  local file: its ``?timeout=`` (busy wait) is in its URL.

Pure: no Django, read by ``remediator/settings.py`` and by ``/readyz``.
"""

from __future__ import annotations

import math

REDIS_SCHEMES = ("redis", "rediss", "sentinel")


def broker_scheme(url: str) -> str:
    """``redis``, ``amqp``, ``sqla+postgresql``, ``sqlite-embedded+sqlite``... lower-cased."""
    return url.partition("://")[0].lower()


def broker_timeout_options(url: str, seconds: float) -> dict:
    """Transport options for ``url`` under which no broker operation blocks past
    ``seconds`` (per operation; see the module docstring for how many a publish makes)."""
    scheme = broker_scheme(url)
    if scheme in REDIS_SCHEMES:
        return {"socket_connect_timeout": seconds, "socket_timeout": seconds}
    if scheme.startswith("sqla+postgres"):
        return {"connect_args": {"connect_timeout": max(1, math.ceil(seconds))}}
    return {}
