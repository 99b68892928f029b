"""python manage.py admission_check IMAGE... [--namespace NS] [--json]

The admission webhook's answer for a pod running these images, for CI gates: exit 0
when it would be allowed (warnings on stderr), 1 when it would be denied.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandParser

from remediator.engine.admission.buffer import BUFFER
from remediator.engine.admission.service import admission_check


class Command(BaseCommand):
    help = "Would the admission webhook let these images run? Exit 1 if it would deny them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "images", nargs="+", help="image references (repo:tag or repo@sha256:…)"
        )
        parser.add_argument("--namespace", default="default", help="namespace the pod would run in")
        parser.add_argument("--json", action="store_true", help="print the decision as JSON")

    def handle(self, *args, images: list[str], namespace: str, json: bool, **options) -> None:
        decision = admission_check(images, namespace=namespace)
        BUFFER.flush()
        if json:
            self.stdout.write(_json(decision))
        else:
            self.stdout.write(f"{decision.outcome}: {decision.message or 'allowed'}")
            for warning in decision.warnings:
                self.stderr.write(f"warning: {warning}")
        if not decision.allowed:
            sys.exit(1)


def _json(decision) -> str:
    return json.dumps(
        {
            "allowed": decision.allowed,
            "outcome": decision.outcome,
            "message": decision.message,
            "warnings": decision.warnings,
            "vulnerabilities": decision.vulnerabilities,
            "images": decision.images,
        },
        default=str,
    )
