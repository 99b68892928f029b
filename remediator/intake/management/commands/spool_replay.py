"""``manage.py spool_replay``: store the webhook bodies spooled while the database was down.

Beat's ``findings.spool_replay`` does the same on the worker's machine; run this on a
web machine whose spool directory the worker cannot see (see remediator/intake/spool_replay.py).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from remediator.intake.spool import spool_dir
from remediator.intake.spool_replay import spool_replay


class Command(BaseCommand):
    help = "Store spooled webhook bodies as deliveries (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="at most this many files")

    def handle(self, *args, limit: int | None = None, **options) -> None:
        outcome = spool_replay(limit=limit)
        self.stdout.write(json.dumps({"spool": str(spool_dir()), **outcome.as_dict()}))
        if outcome.database_down:
            raise SystemExit(1)
