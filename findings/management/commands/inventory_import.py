"""python manage.py inventory_import FILE|- [--cluster NAME]

Records what runs where from ``kubectl get pods -A -o json`` (the same as POST
/api/v1/inventory/), and prints one JSON line: ``{"cluster": …, "containers": N}``.
"""

from __future__ import annotations

import json

import msgspec
from django.core.management.base import BaseCommand, CommandError, CommandParser

from findings.inventory import inventory_record
from findings.models import RunningImage
from findings.pods import PodListInvalid, pods_running

from .ingest import Command as IngestCommand


class Command(BaseCommand):
    help = "Record the images running in a cluster from `kubectl get pods -A -o json`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the kubectl JSON file, or - to read standard input")
        parser.add_argument("--cluster", default="", help="the cluster's name")

    def handle(self, *args, path: str, cluster: str, **options) -> None:
        body = IngestCommand._read(self, path)
        try:
            rows = pods_running(msgspec.json.decode(body), cluster=cluster)
        except (msgspec.DecodeError, PodListInvalid) as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        count = inventory_record(rows, source=RunningImage.Source.INVENTORY)
        self.stdout.write(json.dumps({"cluster": cluster, "containers": count}))
