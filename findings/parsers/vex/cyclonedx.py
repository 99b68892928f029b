"""CycloneDX 1.4-1.6 VEX: a BOM's ``vulnerabilities`` with their ``analysis``.

Each vulnerability with an analysis state is a statement; its ``affects[].ref`` names a
component of this BOM by ``bom-ref`` (read as that component's purl, when it has one)
or of another BOM by BOM-Link (``urn:cdx:<serial>/<version>#<bom-ref>``: the bom-ref,
a purl as Trivy and Dependency-Track write it). A vulnerability with no analysis is no
statement (a plain vulnerability list). States and justifications are read as
OpenVEX's (the original justification is kept)."""

from __future__ import annotations

from urllib.parse import unquote

from .base import (
    AFFECTED,
    FIXED,
    MAX_IDS,
    MAX_STATEMENTS,
    NOT_AFFECTED,
    UNDER_INVESTIGATION,
    Path,
    VexDocument,
    VexProduct,
    VexStatement,
    bounded,
    cut,
    need_dict,
    need_list,
    need_text,
    opt_text,
    timestamp,
)

SPEC_VERSIONS = ("1.4", "1.5", "1.6")
STATES = {
    "not_affected": NOT_AFFECTED,
    "false_positive": NOT_AFFECTED,
    "exploitable": AFFECTED,
    "resolved": FIXED,
    "resolved_with_pedigree": FIXED,
    "in_triage": UNDER_INVESTIGATION,
}
JUSTIFICATIONS = {
    "code_not_present": "vulnerable_code_not_present",
    "code_not_reachable": "vulnerable_code_not_in_execute_path",
    "requires_dependency": "component_not_present",
    "requires_configuration": "vulnerable_code_cannot_be_controlled_by_adversary",
    "requires_environment": "vulnerable_code_cannot_be_controlled_by_adversary",
    "protected_by_compiler": "inline_mitigations_already_exist",
    "protected_at_runtime": "inline_mitigations_already_exist",
    "protected_at_perimeter": "inline_mitigations_already_exist",
    "protected_by_mitigating_control": "inline_mitigations_already_exist",
}
"""CycloneDX's justifications -> the nearest of OpenVEX's."""
MAX_COMPONENTS = 100_000
BOM_LINK = "urn:cdx:"


def is_cyclonedx(document: object) -> bool:
    return isinstance(document, dict) and document.get("bomFormat") == "CycloneDX"


def _components(data: dict, root: Path) -> dict[str, str]:
    """{bom-ref: purl, or the bom-ref when it has none} of every component, nested too."""
    found: dict[str, str] = {}
    metadata = data.get("metadata") or {}
    stack = []
    if isinstance(metadata.get("component"), dict):
        stack.append((metadata["component"], root / "metadata" / "component"))
    listed = need_list(data.get("components"), root / "components", optional=True)
    stack += [(c, root / "components" / i) for i, c in enumerate(listed)]
    while stack:
        component, where = stack.pop()
        component = need_dict(component, where)
        ref = opt_text(component.get("bom-ref"), where / "bom-ref")
        if ref:
            found[ref] = opt_text(component.get("purl"), where / "purl") or ref
            if len(found) > MAX_COMPONENTS:
                raise where.error(f"more than {MAX_COMPONENTS} components")
        children = need_list(component.get("components"), where / "components", optional=True)
        stack += [(c, where / "components" / i) for i, c in enumerate(children)]
    return found


def _product(ref: str, components: dict[str, str]) -> str:
    if ref in components:
        return components[ref]
    if ref.startswith(BOM_LINK) and "#" in ref:
        fragment = ref.split("#", 1)[1]  # percent-encoded when the purl was encoded whole
        return fragment if fragment.startswith("pkg:") else unquote(fragment)
    return ref


def _author(metadata: dict, path: Path) -> str:
    for key in ("manufacturer", "manufacture", "supplier"):
        party = metadata.get(key)
        if isinstance(party, dict):
            name = opt_text(party.get("name"), path / key / "name")
            if name:
                return name
    for index, author in enumerate(
        need_list(metadata.get("authors"), path / "authors", optional=True)
    ):
        name = opt_text(
            need_dict(author, path / "authors" / index).get("name"),
            path / "authors" / index / "name",
        )
        if name:
            return name
    return ""


def _statement(item: object, path: Path, components: dict[str, str]) -> VexStatement | None:
    vulnerability = need_dict(item, path)
    analysis = vulnerability.get("analysis")
    if analysis is None:
        return None
    analysis = need_dict(analysis, path / "analysis")
    state = opt_text(analysis.get("state"), path / "analysis" / "state")
    if not state:
        return None
    if state not in STATES:
        expected = ", ".join(STATES)
        raise (path / "analysis" / "state").error(
            f"unknown state {state[:40]!r}; expected one of {expected}"
        )
    name = need_text(vulnerability.get("id"), path / "id")
    references = need_list(vulnerability.get("references"), path / "references", optional=True)
    aliases = [
        need_text(need_dict(r, path / "references" / i).get("id"), path / "references" / i / "id")
        for i, r in enumerate(references[:MAX_IDS])
    ]
    justification = opt_text(analysis.get("justification"), path / "analysis" / "justification")
    responses = need_list(analysis.get("response"), path / "analysis" / "response", optional=True)
    response = ", ".join(
        need_text(r, path / "analysis" / "response" / i) for i, r in enumerate(responses[:20])
    )
    affects = bounded(
        need_list(vulnerability.get("affects"), path / "affects", optional=True),
        path / "affects",
        MAX_IDS,
        "products",
    )
    products = [
        VexProduct(
            _product(
                need_text(
                    need_dict(a, path / "affects" / i).get("ref"), path / "affects" / i / "ref"
                ),
                components,
            )
        )
        for i, a in enumerate(affects)
    ]
    return VexStatement(
        vulnerability_id=name,
        aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
        status=STATES[state],
        justification=JUSTIFICATIONS.get(justification, ""),
        original_justification=justification,
        impact=cut(opt_text(analysis.get("detail"), path / "analysis" / "detail")),
        action=cut(response),
        products=tuple(dict.fromkeys(products)),
        timestamp=timestamp(analysis.get("lastUpdated"), path / "analysis" / "lastUpdated"),
    )


def parse(document: object) -> VexDocument:
    root = Path("cyclonedx")
    data = need_dict(document, root)
    if not is_cyclonedx(data):
        raise (root / "bomFormat").error('expected "CycloneDX"')
    spec = need_text(data.get("specVersion"), root / "specVersion")
    if spec not in SPEC_VERSIONS:
        raise (root / "specVersion").error(
            f"version {spec[:20]!r}, expected one of {', '.join(SPEC_VERSIONS)}"
        )
    if data.get("vulnerabilities") is None:
        raise (root / "vulnerabilities").error(
            "missing: a BOM without vulnerabilities is no VEX document"
        )
    items = bounded(
        need_list(data["vulnerabilities"], root / "vulnerabilities"),
        root / "vulnerabilities",
        MAX_STATEMENTS,
        "vulnerabilities",
    )
    metadata = data.get("metadata")
    metadata = {} if metadata is None else need_dict(metadata, root / "metadata")
    components = _components(data, root)
    statements = [
        _statement(v, root / "vulnerabilities" / i, components) for i, v in enumerate(items)
    ]
    version = data.get("version", "")
    if isinstance(version, bool) or not isinstance(version, int | str):
        raise (root / "version").expected("an integer", version)
    return VexDocument(
        format="cyclonedx",
        document_id=opt_text(data.get("serialNumber"), root / "serialNumber"),
        author=_author(metadata, root / "metadata"),
        timestamp=timestamp(metadata.get("timestamp"), root / "metadata" / "timestamp"),
        version=str(version),
        statements=tuple(s for s in statements if s is not None),
        spec_version=spec,
    )
