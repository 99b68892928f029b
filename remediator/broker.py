"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, polled faster.

Workers poll the embedded broker's table; kombu's default of once a second
held a burst of 50 webhooks to about 1.8 deliveries a second. (The interval
cannot go through broker_transport_options: this transport hands those to
SQLAlchemy's create_engine.)
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES
from kombu.transport.sqlalchemy import Transport

SCHEME = "sqlite-embedded"


class EmbeddedSQLiteTransport(Transport):
    polling_interval = 0.2


def register() -> None:
    """Make ``sqlite-embedded+sqlite:///path`` URLs resolve to this transport."""
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:EmbeddedSQLiteTransport")
