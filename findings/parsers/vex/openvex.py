"""OpenVEX (https://openvex.dev): the 0.2.0 shape and the older contexts (``ns`` and
``ns/v0.0.1``, where a vulnerability and a product may be plain strings)."""

from __future__ import annotations

from .base import (
    JUSTIFICATIONS,
    MAX_IDS,
    MAX_STATEMENTS,
    STATUSES,
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

CONTEXT_PREFIX = "https://openvex.dev/ns"


def is_openvex(document: object) -> bool:
    if not isinstance(document, dict):
        return False
    context = document.get("@context")
    return isinstance(context, str) and context.strip().startswith(CONTEXT_PREFIX)


def _component(value: object, path: Path) -> str:
    """A product or subcomponent's identifier: its @id, else a purl or CPE it names."""
    if isinstance(value, str):
        return need_text(value, path)
    item = need_dict(value, path)
    found = opt_text(item.get("@id"), path / "@id")
    if found:
        return found
    identifiers = item.get("identifiers")
    if identifiers is not None:
        identifiers = need_dict(identifiers, path / "identifiers")
        for key in ("purl", "cpe23", "cpe22"):
            found = opt_text(identifiers.get(key), path / "identifiers" / key)
            if found:
                return found
    raise path.error("names no @id and no identifiers (purl or cpe)")


def _products(statement: dict, path: Path) -> tuple[VexProduct, ...]:
    items = bounded(
        need_list(statement.get("products"), path / "products", optional=True),
        path / "products",
        MAX_IDS,
        "products",
    )
    # the older shape: one subcomponents list for every product of the statement
    shared = need_list(statement.get("subcomponents"), path / "subcomponents", optional=True)
    shared_ids = tuple(_component(s, path / "subcomponents" / i) for i, s in enumerate(shared))
    products = []
    for index, item in enumerate(items):
        where = path / "products" / index
        subs = shared_ids
        if isinstance(item, dict) and item.get("subcomponents") is not None:
            listed = bounded(
                need_list(item["subcomponents"], where / "subcomponents"),
                where / "subcomponents",
                MAX_IDS,
                "subcomponents",
            )
            subs = tuple(_component(s, where / "subcomponents" / i) for i, s in enumerate(listed))
        products.append(VexProduct(_component(item, where), subs))
    return tuple(products)


def _vulnerability(value: object, path: Path) -> tuple[str, tuple[str, ...]]:
    if isinstance(value, str):
        return need_text(value, path), ()
    item = need_dict(value, path)
    name = opt_text(item.get("name"), path / "name") or opt_text(item.get("@id"), path / "@id")
    if not name:
        raise path.error("names no vulnerability (name or @id)")
    aliases = need_list(item.get("aliases"), path / "aliases", optional=True)
    found = [need_text(a, path / "aliases" / i) for i, a in enumerate(aliases[:MAX_IDS])]
    return name, tuple(dict.fromkeys(a for a in found if a != name))


def _statement(item: object, path: Path) -> VexStatement:
    statement = need_dict(item, path)
    vulnerability, aliases = _vulnerability(statement.get("vulnerability"), path / "vulnerability")
    status = need_text(statement.get("status"), path / "status")
    if status not in STATUSES:
        expected = ", ".join(STATUSES)
        raise (path / "status").error(f"unknown status {status[:40]!r}; expected one of {expected}")
    justification = opt_text(statement.get("justification"), path / "justification")
    return VexStatement(
        vulnerability_id=vulnerability,
        aliases=aliases,
        status=status,
        justification=justification if justification in JUSTIFICATIONS else "",
        original_justification=justification,
        impact=cut(opt_text(statement.get("impact_statement"), path / "impact_statement")),
        action=cut(opt_text(statement.get("action_statement"), path / "action_statement")),
        products=_products(statement, path),
        timestamp=timestamp(statement.get("timestamp"), path / "timestamp"),
    )


def parse(document: object) -> VexDocument:
    root = Path("openvex")
    data = need_dict(document, root)
    if not is_openvex(data):
        raise (root / "@context").error(f"expected a URL starting {CONTEXT_PREFIX}")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int | str | None):
        raise (root / "version").expected("an integer", version)
    items = bounded(
        need_list(data.get("statements"), root / "statements"),
        root / "statements",
        MAX_STATEMENTS,
        "statements",
    )
    document_id = opt_text(data.get("@id"), root / "@id")
    return VexDocument(
        format="openvex",
        document_id=document_id,
        author=need_text(data.get("author"), root / "author"),
        timestamp=timestamp(data.get("timestamp"), root / "timestamp"),
        version="" if version is None else str(version).strip(),
        statements=tuple(_statement(s, root / "statements" / i) for i, s in enumerate(items)),
        spec_version=data["@context"].strip(),
        link=document_id if document_id.startswith("https://") else "",
    )
