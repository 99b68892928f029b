"""Kubernetes AdmissionReview (admission.k8s.io/v1) in and out: pure, no Django.

``parse_review(body)`` reads what the API server sends (``ReviewInvalid`` names what is
wrong with a body that is not a review); ``review_response`` writes the answer: the
request's uid echoed, ``allowed``, a ``status`` with code and message on a denial and
``warnings``. The images of a Pod and of the pod templates of Deployments, StatefulSets,
DaemonSets, ReplicaSets, Jobs and CronJobs are read, init and ephemeral containers too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from findings.parsers.fields import as_dict
from findings.pods import ContainerImage, spec_containers, workload_of

API_VERSIONS = ("admission.k8s.io/v1", "admission.k8s.io/v1beta1")
TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}
)
BREAK_GLASS = "remediator.io/break-glass"
MAX_WARNING = 256
"""The API server may truncate longer warnings."""
MAX_WARNINGS_TOTAL = 4000
"""It ignores warnings past 4096 characters in all."""
MAX_MESSAGE = 4000


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
    dry_run: bool = False
    username: str = ""
    workload: tuple[str, str] = ("", "")
    containers: tuple[ContainerImage, ...] = ()
    annotations: dict = field(default_factory=dict)


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
    obj = as_dict(request.get("object"))
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
    return Review(
        api_version=api_version,
        uid=uid,
        kind=kind,
        namespace=namespace,
        name=_str(request.get("name")) or _str(meta.get("name")),
        operation=_str(request.get("operation")),
        dry_run=request.get("dryRun") is True,
        username=_str(as_dict(request.get("userInfo")).get("username")),
        workload=workload,
        containers=tuple(spec_containers(spec)),
        annotations=annotations,
    )


def break_glass_reason(review: Review) -> str:
    return review.annotations.get(BREAK_GLASS, "").strip()[:500]


def _warnings(warnings: list[str]) -> list[str]:
    kept, total = [], 0
    for warning in warnings:
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
        text = message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
        response["status"] = (
            {"code": 200, "status": "Success", "message": text}
            if allowed
            else {"code": 403, "status": "Failure", "reason": "Forbidden", "message": text}
        )
    if warnings:
        response["warnings"] = _warnings(warnings)
    return {"apiVersion": review.api_version, "kind": "AdmissionReview", "response": response}
