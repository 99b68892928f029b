"""``manage.py threat_intel_import [--epss FILE|URL] [--kev FILE|URL]``: EPSS and KEV data.

Prints one JSON line per file (imported, skipped with the first few named, cleared);
a file that is not of its format, cannot be read or downloaded exits with status 2
and one line on stderr, and nothing of that file is imported.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from findings.threat_intel.parse import ThreatIntelFormatError
from remediator.core.errors import ProviderError
from remediator.engine.services.threat_intel import threat_intel_import


class Command(BaseCommand):
    help = "Import FIRST's EPSS scores (CSV, gzip or plain) and CISA's KEV catalogue (JSON)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--epss", default="", help="EPSS CSV: a path or an http(s) URL")
        parser.add_argument("--kev", default="", help="KEV JSON: a path or an http(s) URL")

    def handle(self, *args, **options) -> None:
        if not options["epss"] and not options["kev"]:
            raise CommandError("name a file or URL: --epss and/or --kev", returncode=2)
        try:
            results = threat_intel_import(epss=options["epss"], kev=options["kev"])
        except (ThreatIntelFormatError, ProviderError, OSError) as exc:
            raise CommandError(str(exc), returncode=2) from exc
        for result in results:
            self.stdout.write(json.dumps(result.as_dict()))
