"""CSAF 2.0 (OASIS): ``csaf_vex`` documents, and the product status of
``csaf_security_advisory`` ones (a vendor's advisory says which products are fixed or
not affected too).

Products are named by id in the vulnerabilities and described once in the
``product_tree``: its ``branches`` (nested), ``full_product_names`` and
``relationships`` (a component of a product: the product with the component as its
subcomponent). An id becomes the product's purl (``product_identification_helper.purl``),
else its CPE, else the id itself. A statement is made per vulnerability, status and the
products sharing a justification (``flags[].label``), impact (``threats`` of category
impact) and action (``remediations``).
"""

from __future__ import annotations

from collections import defaultdict

from .base import (
    AFFECTED,
    FIXED,
    JUSTIFICATIONS,
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

CATEGORIES = ("csaf_vex", "csaf_security_advisory")
STATUS_KEYS = {
    "known_not_affected": NOT_AFFECTED,
    "fixed": FIXED,
    "first_fixed": FIXED,
    "known_affected": AFFECTED,
    "first_affected": AFFECTED,
    "last_affected": AFFECTED,
    "under_investigation": UNDER_INVESTIGATION,
}
"""CSAF product_status groups -> OpenVEX's statuses (``recommended`` is no status)."""
MAX_PRODUCTS = 100_000
MAX_BRANCH_DEPTH = 30


def is_csaf(document: object) -> bool:
    head = document.get("document") if isinstance(document, dict) else None
    return isinstance(head, dict) and "csaf_version" in head


def _identifier(product: dict, path: Path) -> tuple[str, str]:
    """(product id, its identifier: purl, else CPE, else the id)."""
    product_id = need_text(product.get("product_id"), path / "product_id")
    helper = product.get("product_identification_helper")
    if helper is not None:
        helper = need_dict(helper, path / "product_identification_helper")
        for key in ("purl", "cpe"):
            found = opt_text(helper.get(key), path / "product_identification_helper" / key)
            if found:
                return product_id, found
    return product_id, product_id


def _products(tree: dict, path: Path) -> dict[str, VexProduct]:
    found: dict[str, VexProduct] = {}

    def add(product: object, where: Path) -> None:
        product_id, ident = _identifier(need_dict(product, where), where)
        found[product_id] = VexProduct(ident)
        if len(found) > MAX_PRODUCTS:
            raise where.error(f"more than {MAX_PRODUCTS} products")

    stack = [
        (branch, path / "branches" / i, 1)
        for i, branch in enumerate(
            need_list(tree.get("branches"), path / "branches", optional=True)
        )
    ]
    while stack:  # the branches, walked without recursion
        branch, where, depth = stack.pop()
        branch = need_dict(branch, where)
        if depth > MAX_BRANCH_DEPTH:
            raise where.error(f"branches nested deeper than {MAX_BRANCH_DEPTH} levels")
        if branch.get("product") is not None:
            add(branch["product"], where / "product")
        children = need_list(branch.get("branches"), where / "branches", optional=True)
        stack.extend((child, where / "branches" / i, depth + 1) for i, child in enumerate(children))
    names = need_list(tree.get("full_product_names"), path / "full_product_names", optional=True)
    for index, product in enumerate(names):
        add(product, path / "full_product_names" / index)
    relationships = need_list(tree.get("relationships"), path / "relationships", optional=True)
    pending = list(enumerate(relationships))
    while pending:  # a relationship may build on another one's product
        left = []
        for index, relationship in pending:
            where = path / "relationships" / index
            relationship = need_dict(relationship, where)
            component = need_text(
                relationship.get("product_reference"), where / "product_reference"
            )
            parent = need_text(
                relationship.get("relates_to_product_reference"),
                where / "relates_to_product_reference",
            )
            if component not in found or parent not in found:
                left.append((index, relationship))
                continue
            name = need_dict(relationship.get("full_product_name"), where / "full_product_name")
            product_id, _ = _identifier(name, where / "full_product_name")
            subcomponents = (found[component].id, *found[component].subcomponents)
            found[product_id] = VexProduct(found[parent].id, subcomponents)
        if len(left) == len(pending):
            index, relationship = left[0]
            where = path / "relationships" / index
            missing = [
                ref
                for ref in (
                    relationship.get("product_reference"),
                    relationship.get("relates_to_product_reference"),
                )
                if ref not in found
            ]
            raise where.error(
                f"names product {str(missing[0])[:80]!r}, which the product_tree does not define"
            )
        pending = left
    return found


def _groups(tree: dict, path: Path) -> dict[str, list[str]]:
    groups = need_list(tree.get("product_groups"), path / "product_groups", optional=True)
    found = {}
    for index, group in enumerate(groups):
        where = path / "product_groups" / index
        group = need_dict(group, where)
        ids = need_list(group.get("product_ids"), where / "product_ids")
        group_id = need_text(group.get("group_id"), where / "group_id")
        found[group_id] = [need_text(i, where / "product_ids" / n) for n, i in enumerate(ids)]
    return found


class _Scope:
    """Product ids of a flag, threat or remediation: its product_ids and group_ids;
    None when it names neither (it applies to every product of the vulnerability)."""

    def __init__(self, groups: dict[str, list[str]]) -> None:
        self.groups = groups

    def __call__(self, item: dict, where: Path) -> set[str] | None:
        ids = need_list(item.get("product_ids"), where / "product_ids", optional=True)
        group_ids = need_list(item.get("group_ids"), where / "group_ids", optional=True)
        if not ids and not group_ids:
            return None
        found = {need_text(i, where / "product_ids" / n) for n, i in enumerate(ids)}
        for n, group in enumerate(group_ids):
            name = need_text(group, where / "group_ids" / n)
            if name not in self.groups:
                raise (where / "group_ids" / n).error(f"unknown product group {name[:80]!r}")
            found.update(self.groups[name])
        return found


def _per_product(
    items: list, path: Path, scope: _Scope, *, key: str, categories: tuple[str, ...] = ()
) -> dict[str | None, str]:
    """{product id (None: all): text} of flags (``label``), threats or remediations
    (``details``) of the given categories; texts for one product are joined."""
    found: dict[str | None, list[str]] = defaultdict(list)
    for index, item in enumerate(items):
        where = path / index
        item = need_dict(item, where)
        if categories:
            category = opt_text(item.get("category"), where / "category")
            if category not in categories:
                continue
        value = need_text(item.get(key), where / key)
        ids = scope(item, where)
        for product_id in ids if ids is not None else [None]:
            if value not in found[product_id]:
                found[product_id].append(value)
    return {pid: "; ".join(texts) for pid, texts in found.items()}


def _vulnerability(item: object, path: Path, products: dict, scope: _Scope) -> list[VexStatement]:
    vulnerability = need_dict(item, path)
    cve = opt_text(vulnerability.get("cve"), path / "cve")
    ids = need_list(vulnerability.get("ids"), path / "ids", optional=True)
    others = [
        need_text(need_dict(i, path / "ids" / n).get("text"), path / "ids" / n / "text")
        for n, i in enumerate(ids[:MAX_IDS])
    ]
    names = list(dict.fromkeys([cve, *others] if cve else others))
    if not names:
        raise path.error("names no vulnerability (cve or ids)")
    status = vulnerability.get("product_status")
    if status is None:
        return []
    status = need_dict(status, path / "product_status")
    labels = _per_product(
        need_list(vulnerability.get("flags"), path / "flags", optional=True),
        path / "flags",
        scope,
        key="label",
    )
    impacts = _per_product(
        need_list(vulnerability.get("threats"), path / "threats", optional=True),
        path / "threats",
        scope,
        key="details",
        categories=("impact",),
    )
    actions = _per_product(
        need_list(vulnerability.get("remediations"), path / "remediations", optional=True),
        path / "remediations",
        scope,
        key="details",
    )
    statements = []
    for key, value in status.items():
        where = path / "product_status" / key
        normal = STATUS_KEYS.get(key)
        if normal is None:
            if key == "recommended":
                continue
            expected = ", ".join([*STATUS_KEYS, "recommended"])
            raise where.error(f"unknown status {key[:40]!r}; expected one of {expected}")
        grouped: dict[tuple[str, str, str], list[VexProduct]] = defaultdict(list)
        listed = bounded(need_list(value, where), where, MAX_IDS * 20, "products")
        for index, product_id in enumerate(listed):
            product_id = need_text(product_id, where / index)
            if product_id not in products:
                raise (where / index).error(
                    f"names product {product_id[:80]!r}, which the product_tree does not define"
                )
            label = labels.get(product_id, labels.get(None, "")) if normal == NOT_AFFECTED else ""
            impact = (
                impacts.get(product_id, impacts.get(None, "")) if normal == NOT_AFFECTED else ""
            )
            action = actions.get(product_id, actions.get(None, "")) if normal == AFFECTED else ""
            grouped[(label, impact, action)].append(products[product_id])
        for (label, impact, action), items in grouped.items():
            statements.append(
                VexStatement(
                    vulnerability_id=names[0],
                    aliases=tuple(names[1:]),
                    status=normal,
                    justification=label if label in JUSTIFICATIONS else "",
                    original_justification=label,
                    impact=cut(impact),
                    action=cut(action),
                    products=tuple(dict.fromkeys(items)),
                )
            )
    return statements


def parse(document: object) -> VexDocument:
    root = Path("csaf")
    data = need_dict(document, root)
    head = need_dict(data.get("document"), root / "document")
    version = need_text(head.get("csaf_version"), root / "document" / "csaf_version")
    if version != "2.0":
        raise (root / "document" / "csaf_version").error(f"version {version[:20]!r}, expected 2.0")
    category = need_text(head.get("category"), root / "document" / "category")
    if category not in CATEGORIES:
        raise (root / "document" / "category").error(
            f"{category[:60]!r} is no VEX document: expected {' or '.join(CATEGORIES)}"
        )
    publisher = need_dict(head.get("publisher"), root / "document" / "publisher")
    tracking = need_dict(head.get("tracking"), root / "document" / "tracking")
    where = root / "document" / "tracking"
    if data.get("product_tree") is None:
        raise (root / "product_tree").error("missing: the statements name products by id")
    tree = need_dict(data.get("product_tree"), root / "product_tree")
    products = _products(tree, root / "product_tree")
    scope = _Scope(_groups(tree, root / "product_tree"))
    items = need_list(data.get("vulnerabilities"), root / "vulnerabilities", optional=True)
    statements = []
    for index, item in enumerate(items):
        statements += _vulnerability(item, root / "vulnerabilities" / index, products, scope)
        bounded(statements, root / "vulnerabilities", MAX_STATEMENTS, "statements")
    references = need_list(head.get("references"), root / "document" / "references", optional=True)
    link = next(
        (
            opt_text(r.get("url"), root / "document" / "references")
            for r in references
            if isinstance(r, dict) and r.get("category") == "self"
        ),
        "",
    )
    return VexDocument(
        format="csaf",
        document_id=need_text(tracking.get("id"), where / "id"),
        author=need_text(publisher.get("name"), root / "document" / "publisher" / "name"),
        timestamp=timestamp(tracking.get("current_release_date"), where / "current_release_date"),
        version=need_text(tracking.get("version"), where / "version"),
        statements=tuple(statements),
        spec_version=f"{version} {category}",
        link=link if link.startswith("https://") else "",
    )
