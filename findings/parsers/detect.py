"""Tell a report's format from its shape: ``detect(document) -> slug``."""

from __future__ import annotations

from .base import ParseError
from .fields import is_object, type_name
from .harbor import is_webhook_event, report_body
from .trivy_k8s import is_k8s_report
from .trivy_operator import is_vulnerability_report

_TRIED = (
    "aqua ('resources', 'cves', 'result'+'count', or a list of {'image_name', 'results'})",
    "trivy ('SchemaVersion', 'Results', 'ArtifactName', or a list of {'Target'})",
    "trivy-k8s ('ClusterName' with 'Resources')",
    "trivy-operator (kind 'VulnerabilityReport', or a List of them in 'items')",
    "grype ('matches' with 'source' or 'descriptor')",
    "harbor (a report keyed by 'application/vnd.security.vulnerability.report; version=1.1')",
    "generic ('findings' list)",
)


def _unknown(document: object) -> ParseError:
    tried = "; ".join(_TRIED)
    return ParseError(f"cannot tell the format: tried {tried}; found {type_name(document)}")


def detect(document: object) -> str:
    """The parser slug for ``document``; ParseError for empty or unrecognised input.

    Empty documents (``{}``, ``[]``, ``null``) are refused: they match several
    formats, so the caller must name the source explicitly. Harbor webhook events
    detect as 'harbor', whose parser explains that they are not reports.
    """
    if document is None or document == {} or document == []:
        raise ParseError(f"cannot tell the format of an empty document ({type_name(document)})")
    if isinstance(document, list):
        first = next((item for item in document if is_object(item)), {})
        if "results" in first or "image_name" in first:
            return "aqua"
        if "Target" in first:
            return "trivy"
        raise _unknown(document)
    if not is_object(document):
        raise _unknown(document)
    keys = document.keys()
    if is_k8s_report(document):
        return "trivy-k8s"
    if is_vulnerability_report(document):
        return "trivy-operator"
    if is_webhook_event(document) or report_body(document) is not None:
        return "harbor"
    if keys & {"SchemaVersion", "Results", "ArtifactName"}:
        return "trivy"
    if "matches" in keys and keys & {"source", "descriptor"}:
        return "grype"
    if (
        keys & {"resources", "cves"}
        or {"result", "count"} <= keys
        or {"image", "vulnerability_summary"} <= keys
    ):
        return "aqua"
    if isinstance(document.get("findings"), list):
        return "generic"
    raise _unknown(document)
