"""python manage.py inventory_import FILE|- [--cluster NAME]
python manage.py inventory_import --from-cluster [--api-url URL] [--cluster NAME]

Records what runs where from ``kubectl get pods -A -o json`` (the same as POST
/api/v1/inventory/), or from the pod list read straight from the Kubernetes API
(``--from-cluster``: in a pod with its service account, or ``--api-url`` with
``KUBERNETES_TOKEN``; ``remediator.integrations.kubernetes``), and prints one JSON line:
``{"cluster": …, "containers": N, "refused": M}``. Input that is not a pod list (not JSON,
nested deeper than ``remediator.cluster.pods.MAX_DEPTH``, more than INVENTORY_MAX_PODS
pods), or a pod list the API server would not give, is one error line on stderr, exit
status 2 and nothing recorded; containers with an unusable name are counted as refused,
each named on stderr.
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
from remediator.core.errors import ProviderError
from remediator.integrations.kubernetes.access import in_cluster, out_of_cluster
from remediator.integrations.kubernetes.pods import pod_list


def cluster_pod_list(api_url: str) -> dict:
    """Every pod of the cluster, as ``kubectl get pods -A -o json`` would print them."""
    access = out_of_cluster(api_url) if api_url else in_cluster()
    return pod_list(
        access,
        max_pods=settings.INVENTORY_MAX_PODS,
        deadline_s=settings.KUBERNETES_LIST_DEADLINE,
        max_page_bytes=settings.INVENTORY_MAX_BYTES,
        max_depth=MAX_DEPTH,
    )


class Command(BaseCommand):
    help = (
        "Record the images running in a cluster from `kubectl get pods -A -o json`, "
        "or (--from-cluster) from the Kubernetes API."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path", nargs="?", default="", help="the kubectl JSON file, or - to read standard input"
        )
        parser.add_argument("--cluster", default="", help="the cluster's name")
        parser.add_argument(
            "--from-cluster",
            action="store_true",
            help="list the pods from the Kubernetes API (in a pod: its service account)",
        )
        parser.add_argument(
            "--api-url",
            default="",
            help="with --from-cluster outside a pod: the API server (token: KUBERNETES_TOKEN)",
        )

    def handle(
        self, *args, path: str, cluster: str, from_cluster: bool, api_url: str, **options
    ) -> None:
        if len(cluster) > 200 or not cluster.isprintable():
            raise CommandError("--cluster: at most 200 printable characters", returncode=2)
        if from_cluster == bool(path):
            raise CommandError("give either FILE (or -) or --from-cluster", returncode=2)
        if api_url and not from_cluster:
            raise CommandError("--api-url goes with --from-cluster", returncode=2)
        source = "--from-cluster" if from_cluster else path
        try:
            if from_cluster:
                document = cluster_pod_list(api_url)
            else:
                document = load_json(command_input(path), max_depth=MAX_DEPTH)
            rows = pods_running(document, cluster=cluster, max_pods=settings.INVENTORY_MAX_PODS)
        except (ParseError, PodListInvalid, ProviderError) as exc:
            raise CommandError(f"{source}: {exc}", returncode=2) from None
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
