"""``manage.py deadlines_refresh``: the deadline of every open finding, from its owner's
SLA policy (else the default). Run once after upgrading to a version with deadlines
(findings stored before have none), or any time: only deadlines that differ are written.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from remediator.engine.services.deadlines import open_due_dates_refresh


class Command(BaseCommand):
    help = "Recompute the deadline (due date) of every open finding; prints how many changed."

    def handle(self, *args, **options) -> None:
        changed = open_due_dates_refresh()
        self.stdout.write(f"{changed} open finding(s) got a new deadline")
