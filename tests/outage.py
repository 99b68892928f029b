"""A database that is really down for this process: its connection points nowhere.

Not a mock: Django opens a real connection and the driver fails as it does when the
server is stopped (SQLite: a file in a directory that does not exist; PostgreSQL:
a port nothing listens on). Use with ``django_db(transaction=True)``.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database_down(alias: str = "default") -> Iterator[None]:
    connection = connections[alias]
    saved = copy.deepcopy(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-remediator-outage/db.sqlite3"
    else:
        options = {**connection.settings_dict.get("OPTIONS", {}), "connect_timeout": 2}
        connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()), OPTIONS=options)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
