"""``manage.py deadlines_refresh [--missing]``: the deadline of every open finding, from
its owner's SLA policy (else the default). Any time: only deadlines that differ are
written. ``--missing``: only open findings without one (findings stored before an upgrade
to a version with deadlines); ``make run`` and the image's migrate role run it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from remediator.engine.services.deadlines import open_due_dates_refresh


class Command(BaseCommand):
    help = "Recompute the deadline (due date) of every open finding; prints how many changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--missing", action="store_true", help="only open findings without a deadline"
        )

    def handle(self, *args, missing: bool, **options) -> None:
        changed = open_due_dates_refresh(missing_only=missing)
        self.stdout.write(f"{changed} open finding(s) got a new deadline")
