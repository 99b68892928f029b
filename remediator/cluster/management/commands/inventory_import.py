"""python manage.py inventory_import FILE|- [--cluster NAME]

Records what runs where from ``kubectl get pods -A -o json`` (the same as POST
/api/v1/inventory/), and prints one JSON line: ``{"cluster": …, "containers": N,
"refused": M}``. Input that is not a pod list (not JSON, nested deeper than
``remediator.cluster.pods.MAX_DEPTH``, more than INVENTORY_MAX_PODS pods) is one error
line on stderr and exit status 2; containers with an unusable name are counted as
refused, each named on stderr.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from findings.models import RunningImage
from findings.parsers.base import ParseError
from findings.parsers.jsonload import load_json
from remediator.cluster.inventory import inventory_record
from remediator.cluster.pods import MAX_DEPTH, PodListInvalid, pods_running, row_problem
from remediator.core.command_input import command_input


class Command(BaseCommand):
    help = "Record the images running in a cluster from `kubectl get pods -A -o json`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the kubectl JSON file, or - to read standard input")
        parser.add_argument("--cluster", default="", help="the cluster's name")

    def handle(self, *args, path: str, cluster: str, **options) -> None:
        if len(cluster) > 200 or not cluster.isprintable():
            raise CommandError("--cluster: at most 200 printable characters", returncode=2)
        body = command_input(path)
        try:
            rows = pods_running(
                load_json(body, max_depth=MAX_DEPTH),
                cluster=cluster,
                max_pods=settings.INVENTORY_MAX_PODS,
            )
        except (ParseError, PodListInvalid) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        kept, refused = [], 0
        for row in rows:
            problem = row_problem(row)
            if problem:
                refused += 1
                self.stderr.write(f"refused {row.namespace!r}/{row.name!r}: {problem}")
            else:
                kept.append(row)
        count = inventory_record(kept, source=RunningImage.Source.INVENTORY)
        self.stdout.write(json.dumps({"cluster": cluster, "containers": count, "refused": refused}))
