"""python manage.py ingest [--source SLUG] [--image REF] PATH|-

Receives the file as a delivery and processes it here and now, through the same entry
point as the webhooks (``remediator/intake/receive.py``), then prints one JSON line
describing the result.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandParser

from findings.models import Source
from remediator.core.command_input import command_input
from remediator.intake.receive import Then, delivery_receive


class Command(BaseCommand):
    help = "Ingest one scan report file (or - for standard input) and print a JSON summary."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="report file, or - to read standard input")
        parser.add_argument(
            "--source", default="auto", choices=[s.value for s in Source], help="report format"
        )
        parser.add_argument(
            "--image", default="", help="image reference for reports that name none"
        )

    def handle(self, *args, path: str, source: str, image: str, **options) -> None:
        receipt = delivery_receive(
            source=source,
            body=command_input(path),
            image_hint=image,
            channel="cli",
            content_type="application/json",
            then=Then.PROCESS,
        )
        if receipt.problem is not None:
            why = receipt.problem.detail
            self.stderr.write(f"rejected (delivery {receipt.delivery.pk}): {why}")
            sys.exit(2)
        self.stdout.write(json.dumps(receipt.as_dict()))
