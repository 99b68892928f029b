"""``manage.py check_setup [--json] [--ping]``: the go-live checklist for operators.

One line per item (OK / MISSING / WARNING, what it means, the one fix), or ``--json``.
``--ping`` also asks every build target's CI system and Aqua whether they answer (and
stores the answers for the dashboard's checklist). Exit status 1 when a required item
is missing; warnings alone exit 0. Secrets are named, never shown.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from remediator.engine.checklist import setup_checklist
from remediator.engine.checklist.pings import setup_pings_run


class Command(BaseCommand):
    help = "Say what is configured and what is missing before going live, with each fix."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="One JSON document."
        )
        parser.add_argument(
            "--ping", action="store_true", help="Also call each CI system and Aqua."
        )

    def handle(self, *args, as_json: bool, ping: bool, **options) -> None:
        checklist = setup_checklist(pings=setup_pings_run() if ping else None)
        missing = checklist.required_missing
        if as_json:
            self._json(checklist, missing)
        else:
            self._text(checklist)
        if missing:
            raise CommandError(
                f"{len(missing)} required item(s) missing: "
                + ", ".join(item.title for item in missing),
                returncode=1,
            )

    def _json(self, checklist, missing) -> None:
        document = {
            "ok": not missing,
            "required_missing": [item.key for item in missing],
            "items": [item.as_dict() for item in checklist.items],
        }
        self.stdout.write(json.dumps(document, indent=2))

    def _text(self, checklist) -> None:
        for area, items in checklist.areas():
            self.stdout.write(area)
            for item in items:
                mark = item.status.upper() + (" (required)" if item.required else "")
                self.stdout.write(f"  {mark:<20} {item.title}: {item.detail}")
                if item.fix:
                    where = f" ({settings.BASE_URL}{item.fix_url})" if item.fix_url else ""
                    self.stdout.write(f"  {'':<20} fix: {item.fix}{where}")
        to_do = checklist.to_do
        self.stdout.write(f"{len(to_do)} thing(s) to set up." if to_do else "Everything is set up.")
