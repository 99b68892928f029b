"""What an image digest's decisions say, as OpenVEX statements. Pure: facts in,
JSON-ready dicts out, no Django.

- a false positive -> ``not_affected`` with the chosen justification, or the reason as
  ``impact_statement`` when none was chosen (OpenVEX needs one of the two);
- a risk acceptance -> ``affected`` with an ``action_statement`` naming the end date: a
  business decision to live with a vulnerability is not "not affected", and Trivy and
  Grype filter neither ``affected`` nor ``under_investigation``;
- an investigation -> ``under_investigation``;
- a finding a scan of this digest proved fixed -> ``fixed``.

The product is the digest's OCI purl (Trivy's form), with the digest as its sha-256
hash (what Grype matches); the package is a subcomponent when its purl can be built
(``purls.package_purl``), otherwise the statement names the product alone (then it
covers the vulnerability in every package of that digest: documented).
Reasons are data: they go into JSON strings only, never into identifiers.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime

from .purls import package_purl

NOT_AFFECTED, AFFECTED, FIXED, UNDER_INVESTIGATION = (
    "not_affected",
    "affected",
    "fixed",
    "under_investigation",
)
_SHA256 = re.compile(r"@sha256:([0-9a-f]{64})(?:\?|\Z)")
REASON_MAX = 2000
"""Longest reason carried into a statement (cut with an ellipsis past it)."""


@dataclass(frozen=True)
class FindingFacts:
    """One finding's decision as seen from one digest (``product``: its OCI purl)."""

    product: str
    vulnerability_id: str
    package: str
    installed_version: str
    package_type: str
    os: str
    status: str  # NOT_AFFECTED, AFFECTED, FIXED or UNDER_INVESTIGATION
    at: datetime
    reason: str = ""
    justification: str = ""
    accepted_until: datetime | None = None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


def statement(facts: FindingFacts) -> dict:
    """The OpenVEX statement of one decision."""
    product: dict = {"@id": facts.product}
    digest = _SHA256.search(facts.product)
    if digest is not None:
        # Grype names the image by a purl of another form (repository_url without the
        # name) but also by the bare digest, which go-vex matches against these hashes
        product["hashes"] = {"sha-256": digest.group(1)}
    component = package_purl(
        package=facts.package,
        version=facts.installed_version,
        package_type=facts.package_type,
        os=facts.os,
    )
    if component is not None:
        product["subcomponents"] = [{"@id": component}]
    out: dict = {
        "vulnerability": {"name": facts.vulnerability_id},
        "timestamp": _iso(facts.at),
        "products": [product],
        "status": facts.status,
    }
    reason = _clip(facts.reason)
    if facts.status == NOT_AFFECTED:
        if facts.justification:
            out["justification"] = facts.justification
            if reason:
                out["impact_statement"] = reason
        else:
            out["impact_statement"] = reason or "Marked not affected in Remediator."
    elif facts.status == AFFECTED:
        until = (
            f"until {facts.accepted_until.date().isoformat()}"
            if facts.accepted_until
            else "with no end date"
        )
        out["action_statement"] = f"Risk accepted {until}" + (f" ({reason})" if reason else "")
        out["action_statement_timestamp"] = _iso(facts.at)
    elif reason:
        out["status_notes"] = reason
    return out


def _key(item: dict) -> tuple:
    product = item["products"][0]
    sub = product.get("subcomponents", [{}])[0].get("@id", "")
    return (product["@id"], item["vulnerability"]["name"], sub, item["status"])


def statements_for(facts: list[FindingFacts]) -> list[dict]:
    """The statements of many decisions, in a stable order, without duplicates (two
    findings of one package in two tags of one digest say the same thing once)."""
    seen: dict[tuple, dict] = {}
    for item in facts:
        made = statement(item)
        key = _key(made)
        if key not in seen or made["timestamp"] > seen[key]["timestamp"]:
            seen[key] = made
    return [seen[key] for key in sorted(seen)]


def statements_hash(statements: list[dict]) -> str:
    """A hash of what the statements say: equal lists, equal hashes."""
    text = json.dumps(statements, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
