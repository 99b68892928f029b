"""``manage.py threat_intel_import [--epss FILE|URL] [--kev FILE|URL] [--force]``.

Prints one JSON line per file imported (imported, skipped with the first few named,
cleared, forced). A file that is refused -- not of its format, unreadable, not
downloaded, or not a believable snapshot (its own count contradicted, mostly
unreadable rows, older than or much smaller than the snapshot in place) -- changes
nothing: the command says why on one line of stderr and exits with status 2.
``--force`` imports a snapshot the sanity rules refuse.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from remediator.engine.services.threat_intel import threat_intel_import


class Command(BaseCommand):
    help = "Import FIRST's EPSS scores (CSV, gzip or plain) and CISA's KEV catalogue (JSON)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--epss", default="", help="EPSS CSV: a path or an http(s) URL")
        parser.add_argument("--kev", default="", help="KEV JSON: a path or an http(s) URL")
        parser.add_argument(
            "--force",
            action="store_true",
            help="import a snapshot even if it is stale, shrunk, contradicts its count "
            "or has many unreadable rows",
        )

    def handle(self, *args, **options) -> None:
        if not options["epss"] and not options["kev"]:
            raise CommandError("name a file or URL: --epss and/or --kev", returncode=2)
        outcome = threat_intel_import(
            epss=options["epss"], kev=options["kev"], force=options["force"]
        )
        for result in outcome.results:
            self.stdout.write(json.dumps(result.as_dict()))
        if outcome.refused:
            reasons = "; ".join(" ".join(str(r).split()) for r in outcome.refused)
            raise CommandError(reasons, returncode=2)
