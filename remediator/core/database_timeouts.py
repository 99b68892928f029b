"""The statement timeout a PostgreSQL connection starts with (libpq ``options``).

Sent in the connection's start-up packet, so it costs no round trip per request.
Set for every process in ``remediator/settings.py`` (the long, worker value) and
lowered for web processes in ``remediator/wsgi.py``. Pure: no Django.
"""

from __future__ import annotations

import re

_STATEMENT_TIMEOUT = re.compile(r"\s*-c\s*statement_timeout=\S+")


def postgres_statement_timeout(database: dict, seconds: float) -> None:
    """Make ``database`` (one entry of DATABASES) start its sessions with
    ``statement_timeout`` = ``seconds`` (0: none), keeping any other ``options``."""
    options = database.setdefault("OPTIONS", {})
    others = _STATEMENT_TIMEOUT.sub("", str(options.get("options", ""))).strip()
    ours = f"-c statement_timeout={max(0, round(seconds * 1000))}"
    options["options"] = f"{others} {ours}".strip()
