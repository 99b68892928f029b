"""Which workload runs which image, read from Kubernetes objects: pure, no Django.

Used by the inventory push (``kubectl get pods -A -o json``) and by admission reviews
(a Pod, or the pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job
or CronJob).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass

from findings.parsers.fields import as_dict, as_list
from findings.parsers.images import normalize_digest

CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")
STATUS_FIELDS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")
MAX_DEPTH = 64
"""Deepest JSON nesting a review or a pod list may have: a Pod nests about 15 levels,
its managedFields a few more; deeper is refused before anything walks it."""
MAX_NAME = 253
"""Kubernetes names (DNS subdomains) are at most 253 characters."""
MAX_LABELS = 64
"""Labels kept per workload (ownership rules need a few; a flood is cut, not stored)."""
MAX_LABEL_KEY = 317
"""A label key: an optional DNS-subdomain prefix (253), "/", and a name (63)."""
MAX_LABEL_VALUE = 63
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class PodListInvalid(ValueError):
    """The document is not a pod list (or a single pod) this module can read."""


class PodListTooLarge(PodListInvalid):
    """The pod list has more pods than this push may carry."""


@dataclass(frozen=True)
class ContainerImage:
    """One container of a pod spec: its name, image reference and where it sits."""

    name: str
    image: str
    field: str = "containers"


@dataclass(frozen=True)
class RunningRow:
    """One container of one workload seen running an image (digest '' when unknown)."""

    cluster: str
    namespace: str
    kind: str
    name: str
    container: str
    image_ref: str
    digest: str = ""
    labels: Mapping[str, str] | None = dataclasses.field(default=None, compare=False)
    """The workload's Kubernetes labels (None: not known to whoever saw it)."""


def row_problem(row: RunningRow) -> str:
    """Why this container cannot be recorded ('' when it can): an empty namespace,
    workload or container name, or a name, kind or image reference with a control
    character or longer than Kubernetes allows, is not something a cluster runs."""
    for label, value, limit in (
        ("cluster", row.cluster, 200),
        ("namespace", row.namespace, MAX_NAME),
        ("workload name", row.name, MAX_NAME),
        ("container name", row.container, MAX_NAME),
        ("kind", row.kind, 64),
        ("image", row.image_ref, 1000),
    ):
        if not value and label not in ("cluster", "kind"):
            return f"{label}: empty"
        if len(value) > limit:
            return f"{label}: longer than {limit} characters"
        if _CONTROL.search(value):
            return f"{label}: contains a control character"
    return ""


def labels_of(*metadata: object) -> dict[str, str]:
    """The labels of Kubernetes ``metadata`` objects merged (later ones win), keeping
    only what Kubernetes itself would accept: string keys and values of its lengths,
    without control characters, at most MAX_LABELS of them."""
    found: dict[str, str] = {}
    for meta in metadata:
        for key, value in as_dict(as_dict(meta).get("labels")).items():
            if (
                isinstance(key, str)
                and isinstance(value, str)
                and 0 < len(key) <= MAX_LABEL_KEY
                and len(value) <= MAX_LABEL_VALUE
                and not _CONTROL.search(key + value)
            ):
                found[key] = value
    return dict(sorted(found.items())[:MAX_LABELS])


def spec_containers(spec: object) -> list[ContainerImage]:
    """The containers of a pod spec, init and ephemeral ones included, in that order."""
    found = []
    for field in CONTAINER_FIELDS:
        for container in as_list(as_dict(spec).get(field)):
            container = as_dict(container)
            image = container.get("image")
            if isinstance(image, str) and image.strip():
                found.append(ContainerImage(str(container.get("name") or ""), image.strip(), field))
    return found


def digest_of_image_id(image_id: object) -> str:
    """``sha256:…`` from a containerStatus ``imageID`` (``docker-pullable://repo@sha256:…``,
    ``repo@sha256:…`` or a bare ``sha256:…``), '' when it names none."""
    if not isinstance(image_id, str):
        return ""
    _, at, digest = image_id.rpartition("@")
    return normalize_digest(digest if at else image_id.removeprefix("docker://"))


def workload_of(metadata: object, default_kind: str = "Pod") -> tuple[str, str]:
    """(kind, name) of the workload that owns an object: its controller owner, a
    ReplicaSet named ``<deployment>-<pod-template-hash>`` reported as the Deployment;
    else the object itself (its ``generateName`` while the API server has not named it)."""
    meta = as_dict(metadata)
    owners = [as_dict(owner) for owner in as_list(meta.get("ownerReferences"))]
    owner = next((o for o in owners if o.get("controller")), owners[0] if owners else None)
    if owner and owner.get("kind") and owner.get("name"):
        kind, name = str(owner["kind"]), str(owner["name"])
        template_hash = str(as_dict(meta.get("labels")).get("pod-template-hash") or "")
        if kind == "ReplicaSet" and template_hash and name.endswith(f"-{template_hash}"):
            return "Deployment", name[: -len(template_hash) - 1]
        return kind, name
    name = str(meta.get("name") or meta.get("generateName") or "")
    return default_kind, name


def pods_running(document: object, *, cluster: str = "", max_pods: int = 0) -> list[RunningRow]:
    """Every container of every pod in a ``kubectl get pods -A -o json`` document (a
    ``List``/``PodList``, or one Pod), with the digest its status reports. More than
    ``max_pods`` pods (when given): ``PodListTooLarge``."""
    doc = as_dict(document)
    if doc.get("kind") == "Pod":
        pods = [doc]
    elif isinstance(doc.get("items"), list):
        pods = doc["items"]
    else:
        raise PodListInvalid('expected a pod list ({"kind": "List", "items": [...]}) or a Pod')
    if max_pods and len(pods) > max_pods:
        raise PodListTooLarge(
            f"{len(pods)} pods, more than INVENTORY_MAX_PODS ({max_pods}): "
            "push one namespace at a time (kubectl get pods -n NAMESPACE -o json)"
        )
    rows: dict[tuple, RunningRow] = {}
    for pod in pods:
        pod = as_dict(pod)
        if pod.get("kind", "Pod") != "Pod":
            continue
        meta = as_dict(pod.get("metadata"))
        namespace = str(meta.get("namespace") or "default")
        kind, name = workload_of(meta)
        status = as_dict(pod.get("status"))
        digests = {
            str(as_dict(s).get("name") or ""): digest_of_image_id(as_dict(s).get("imageID"))
            for field in STATUS_FIELDS
            for s in as_list(status.get(field))
        }
        for container in spec_containers(pod.get("spec")):
            row = RunningRow(
                cluster=cluster,
                namespace=namespace,
                kind=kind,
                name=name,
                container=container.name,
                image_ref=container.image,
                digest=digests.get(container.name, ""),
                labels=labels_of(meta),
            )
            rows[(namespace, kind, name, container.name)] = row
    return list(rows.values())
