"""python manage.py vex_import FILE|URL [--source-name NAME]

Receives a vendor's VEX document (OpenVEX, CSAF 2.0 or CycloneDX) as a delivery of source
``vex`` and imports it here and now, through the same entry point as the webhook
(``remediator/intake/receive.py``); an https URL is downloaded first
(``remediator/integrations/vex``: timeouts, VEX_FETCH_MAX_BYTES). Prints one JSON line:
the import, its statements and how many findings they speak of. Exit status 1 with the
reason when the document is refused (the delivery is kept, rejected).
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from findings.vex.selectors import import_matched_findings
from remediator.core.command_input import command_input
from remediator.core.errors import ProviderError
from remediator.intake.receive import Then, delivery_receive
from remediator.integrations.vex.client import vex_download


class Command(BaseCommand):
    help = "Import one VEX document (a file, - for standard input, or an https URL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("location", help="a file, - for standard input, or an https:// URL")
        parser.add_argument(
            "--source-name",
            default="",
            help="where the document comes from (e.g. a vendor's feed name), kept with it",
        )

    def handle(self, *args, location: str, source_name: str, **options) -> None:
        headers = {"source_name": source_name[:200]} if source_name else {}
        if location.startswith(("https://", "http://")):
            try:
                body = vex_download(location)
            except ProviderError as exc:
                raise CommandError(str(exc), returncode=1) from exc
            headers["fetched_from"] = location[:500]
        else:
            body = command_input(location)
        receipt = delivery_receive(
            source="vex",
            body=body,
            channel="cli",
            content_type="application/json",
            headers=headers,
            then=Then.PROCESS,
        )
        if receipt.problem is not None:
            why = receipt.problem.detail
            self.stderr.write(f"rejected (delivery {receipt.delivery.pk}): {why}")
            sys.exit(1)
        summary = receipt.as_dict()
        result = receipt.result
        if result is not None and hasattr(result, "vex_import"):
            summary["matched_findings"] = len(import_matched_findings(result.vex_import))
        if source_name:
            summary["source_name"] = source_name
        self.stdout.write(json.dumps(summary))
