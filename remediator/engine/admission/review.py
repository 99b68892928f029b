"""Kubernetes AdmissionReview (admission.k8s.io/v1) in and out: pure, no Django.

``parse_review(body)`` reads what the API server sends (``ReviewInvalid`` names what is
wrong with a body that is not a review); ``review_response`` writes the answer: the
request's uid echoed, ``allowed``, a ``status`` with code and message on a denial and
``warnings``. The images of a Pod and of the pod templates of Deployments, StatefulSets,
DaemonSets, ReplicaSets, Jobs and CronJobs are read, init and ephemeral containers too,
from ``object`` and, on UPDATE, from ``oldObject``: ``introduced`` says which containers
the request brings, the only ones an UPDATE is judged on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from findings.parsers.fields import as_dict, as_list
from remediator.cluster.pods import ContainerImage, labels_of, spec_containers, workload_of

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}
)
ALWAYS_ADMITTED = frozenset({"DELETE", "CONNECT"})
"""Operations that bring no image: a DELETE removes, a CONNECT (exec, attach,
port-forward, proxy) opens a stream to what already runs."""
BREAK_GLASS = "remediator.io/break-glass"
MAX_REASON = 500
MAX_WARNING = 256
"""The API server may truncate longer warnings."""
MAX_WARNINGS_TOTAL = 4000
"""It ignores warnings past 4096 characters in all."""
MAX_MESSAGE = 4000
MAX_GROUPS = 100
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class ReviewInvalid(ValueError):
    """The body is not an AdmissionReview this webhook can answer (says why)."""


@dataclass(frozen=True)
class Review:
    api_version: str
    uid: str
    kind: str = ""
    namespace: str = ""
    name: str = ""
    operation: str = ""
    sub_resource: str = ""
    dry_run: bool = False
    username: str = ""
    groups: tuple[str, ...] = ()
    workload: tuple[str, str] = ("", "")
    containers: tuple[ContainerImage, ...] = ()
    """Of ``object`` (what will run)."""
    previous: tuple[ContainerImage, ...] | None = None
    """Of ``oldObject`` on UPDATE; None when the request carries none (all is new then)."""
    annotations: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    """The workload's labels: its own, then its pod template's (what its pods carry)."""


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _string_values(value: object) -> dict[str, str]:
    return {k: v for k, v in as_dict(value).items() if isinstance(v, str)}


def pod_template(obj: dict) -> tuple[dict, dict]:
    """(pod spec, pod template metadata) of a Pod or of a workload's pod template."""
    kind = obj.get("kind")
    spec = as_dict(obj.get("spec"))
    if kind == "Pod":
        return spec, as_dict(obj.get("metadata"))
    if kind == "CronJob":
        spec = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    elif kind not in TEMPLATE_KINDS:
        return {}, {}
    template = as_dict(spec.get("template"))
    return as_dict(template.get("spec")), as_dict(template.get("metadata"))


def _previous(request: dict, operation: str) -> tuple[ContainerImage, ...] | None:
    old = request.get("oldObject")
    if operation != "UPDATE" or not isinstance(old, dict):
        return None
    return tuple(spec_containers(pod_template(old)[0]))


def parse_review(body: object) -> Review:
    if not isinstance(body, dict):
        raise ReviewInvalid("expected a JSON object (an AdmissionReview)")
    api_version = body.get("apiVersion")
    if api_version not in API_VERSIONS:
        raise ReviewInvalid(f"apiVersion must be admission.k8s.io/v1, not {api_version!r}"[:300])
    if body.get("kind") != "AdmissionReview":
        raise ReviewInvalid(f"kind must be AdmissionReview, not {body.get('kind')!r}"[:300])
    request = body.get("request")
    if not isinstance(request, dict):
        raise ReviewInvalid("request: expected an object (an AdmissionRequest)")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise ReviewInvalid("request.uid: expected a non-empty string")
    if len(uid) > 256:
        raise ReviewInvalid("request.uid: longer than 256 characters")
    operation = _str(request.get("operation"))
    obj = as_dict(request.get("object"))
    if operation == "DELETE":  # object is null: name the workload from what is deleted
        obj = as_dict(request.get("oldObject"))
    meta = as_dict(obj.get("metadata"))
    spec, template_meta = pod_template(obj)
    kind = _str(as_dict(request.get("kind")).get("kind")) or _str(obj.get("kind"))
    namespace = _str(request.get("namespace")) or _str(meta.get("namespace"))
    workload = workload_of(meta, default_kind=_str(obj.get("kind")) or kind)
    if not workload[1]:
        workload = (workload[0], _str(request.get("name")))
    annotations = {
        **_string_values(template_meta.get("annotations")),
        **_string_values(meta.get("annotations")),
    }
    user = as_dict(request.get("userInfo"))
    groups = tuple(g for g in as_list(user.get("groups"))[:MAX_GROUPS] if isinstance(g, str))
    return Review(
        api_version=api_version,
        uid=uid,
        kind=kind,
        namespace=namespace,
        name=_str(request.get("name")) or _str(meta.get("name")),
        operation=operation,
        sub_resource=_str(request.get("subResource")),
        dry_run=request.get("dryRun") is True,
        username=_str(user.get("username")),
        groups=groups,
        workload=workload,
        containers=() if operation in ALWAYS_ADMITTED else tuple(spec_containers(spec)),
        previous=_previous(request, operation),
        annotations=annotations,
        labels=labels_of(meta, template_meta),
    )


def introduced(review: Review) -> list[ContainerImage]:
    """The containers whose image this request brings, the only ones to judge.

    CREATE (and anything but UPDATE, DELETE and CONNECT): every container. UPDATE: those
    whose exact reference the old object did not have in the same field (containers,
    initContainers, ephemeralContainers), whatever the container's name or position: a
    scale, a finalizer or label removed, a status write or a rename runs no new image.
    DELETE and CONNECT: none."""
    if review.operation in ALWAYS_ADMITTED:
        return []
    if review.previous is None:
        return list(review.containers)
    before = {(c.field, c.image) for c in review.previous}
    return [c for c in review.containers if (c.field, c.image) not in before]


def break_glass_annotation(review: Review) -> str | None:
    """The break-glass annotation's text as given (None when there is none)."""
    return review.annotations.get(BREAK_GLASS)


def printable(text: str) -> str:
    """``text`` with control and invisible formatting characters written as escapes
    (``\\n``, ``\\x00``, ``\\u202e``): names and references in an answer are data, and
    the API server sends warnings on as HTTP headers."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


def _warnings(warnings: list[str]) -> list[str]:
    kept, total = [], 0
    for warning in warnings:
        warning = printable(warning)
        text = warning if len(warning) <= MAX_WARNING else warning[: MAX_WARNING - 1] + "…"
        if total + len(text) > MAX_WARNINGS_TOTAL:
            break
        kept.append(text)
        total += len(text)
    return kept


def review_response(
    review: Review, *, allowed: bool, message: str = "", warnings: list[str] | None = None
) -> dict:
    """The AdmissionReview to answer with: uid echoed, allowed, status, warnings."""
    response: dict = {"uid": review.uid, "allowed": allowed}
    if message:
        message = printable(message)
        text = message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
        response["status"] = (
            {"code": 200, "status": "Success", "message": text}
            if allowed
            else {"code": 403, "status": "Failure", "reason": "Forbidden", "message": text}
        )
    if warnings:
        response["warnings"] = _warnings(warnings)
    return {"apiVersion": review.api_version, "kind": "AdmissionReview", "response": response}
