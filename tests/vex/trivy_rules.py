"""Trivy's documented VEX matching, written from its source for the tests, independent of
Remediator's own purl code (no Trivy binary can be installed here).

Sources (aquasecurity/trivy dc3c56eed58ab21c7e08d26757c517bc946a86c5; openvex/go-vex
v0.2.7; package-url/packageurl-go v0.1.6):

- ``pkg/purl/purl.go`` ``parseOCI``: the scanned image's purl is
  ``pkg:oci/<last path segment, lowercased>@<digest>?arch=<arch>&repository_url=<repo>``,
  ``<repo>`` as go-containerregistry names it (Docker Hub: ``index.docker.io``, a
  one-segment name under ``library/``).
- ``pkg/vex/repo.go`` ``RepositorySet.NotAffected``: for each component with a purl,
  drop version, qualifiers and subpath, keep ``repository_url`` for OCI, and look the
  string up in ``index.json``'s ids; the first repository whose index has it decides.
- ``pkg/vex/vex.go`` ``filterVulnerabilities``/``reachRoot``: a vulnerability is
  filtered when the package itself (product, no subcomponent) or any ancestor up to the
  root image (product) with the package as subcomponent is "not affected".
- ``pkg/vex/openvex.go`` ``NotAffected``: of the matching statements, the latest (by
  timestamp) wins, and only ``not_affected`` and ``fixed`` filter.
- go-vex ``Statement.Matches``/``Product.Matches``/``Component.Matches``/``PurlMatches``:
  the vulnerability name equals the id; the product's @id equals or purl-matches; a
  product without subcomponents, or a check without one, matches on the product alone;
  purl match: same type, namespace, name; a version in the statement must equal; every
  qualifier of the statement must be in the target with the same value.
- packageurl-go ``ToString``: qualifier values percent-encode every byte but
  ``[A-Za-z0-9-._~:]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

QUALIFIER_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:")


@dataclass(frozen=True)
class Purl:
    type: str
    namespace: str
    name: str
    version: str
    qualifiers: dict


def parse_purl(text: str) -> Purl:
    """packageurl-go's ``FromString``, enough for these tests (no subpath in them)."""
    assert text.startswith("pkg:"), text
    rest = text[4:]
    rest, _, query = rest.partition("?")
    kind, _, rest = rest.partition("/")
    version = ""
    if "@" in rest.lstrip("@"):
        rest, _, version = rest.rpartition("@")
    namespace, _, name = rest.rpartition("/")
    qualifiers = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if value:
            qualifiers[key.lower()] = unquote(value)
    kind = kind.lower()
    namespace = "/".join(unquote(s) for s in namespace.split("/") if s)
    name = unquote(name)
    if kind in ("apk", "deb", "rpm", "golang", "composer"):
        namespace = namespace.lower()
    if kind in ("apk", "deb", "golang", "composer"):
        name = name.lower()
    if kind == "pypi":
        name = name.lower().replace("_", "-")
    return Purl(kind, namespace, name, unquote(version), qualifiers)


def purl_matches(statement_purl: str, target: str) -> bool:
    """go-vex ``PurlMatches(purl1=statement's, purl2=target)``."""
    p1, p2 = parse_purl(statement_purl), parse_purl(target)
    if (p1.type, p1.namespace, p1.name) != (p2.type, p2.namespace, p2.name):
        return False
    if p1.version and p1.version != p2.version:
        return False
    return all(p2.qualifiers.get(k) == v for k, v in p1.qualifiers.items())


def _component_matches(component: dict, identifier: str) -> bool:
    at = component.get("@id", "")
    if at and at == identifier:
        return True
    if at.startswith("pkg:") and purl_matches(at, identifier):
        return True
    purl = component.get("identifiers", {}).get("purl")
    return bool(purl and identifier.startswith("pkg:") and purl_matches(purl, identifier))


def _product_matches(product: dict, identifier: str, sub: str) -> bool:
    if not _component_matches(product, identifier):
        return False
    subcomponents = product.get("subcomponents", [])
    if not subcomponents or not sub:
        return True
    return any(_component_matches(s, sub) for s in subcomponents)


def matching_statements(document: dict, vuln_id: str, product: str, sub: str) -> list[dict]:
    """go-vex ``VEX.Matches``, sorted as ``SortStatements``: oldest first."""
    found = [
        s
        for s in document["statements"]
        if s["vulnerability"]["name"] == vuln_id
        and any(_product_matches(p, product, sub) for p in s["products"])
    ]
    default = document.get("timestamp")

    def when(statement: dict) -> datetime:
        return datetime.fromisoformat(statement.get("timestamp", default).replace("Z", "+00:00"))

    return sorted(found, key=when)


def not_affected(document: dict, vuln_id: str, product: str, sub: str) -> bool:
    """Trivy's ``OpenVEX.NotAffected``: the latest matching statement filters when it
    says not_affected or fixed."""
    found = matching_statements(document, vuln_id, product, sub)
    return bool(found) and found[-1]["status"] in ("not_affected", "fixed")


def qualifier_value(text: str) -> str:
    return "".join(
        c if c in QUALIFIER_SAFE else "".join(f"%{b:02X}" for b in c.encode()) for c in text
    )


def repository_url_of(repo_digest: str) -> str:
    """go-containerregistry's ``Repository.Name()`` of a RepoDigests entry."""
    name = repo_digest.split("@", 1)[0]
    first, _, rest = name.partition("/")
    if not rest or not ("." in first or ":" in first or first == "localhost"):
        registry, path = "index.docker.io", name
        if "/" not in path:
            path = f"library/{path}"
    else:
        registry, path = ("index.docker.io" if first == "docker.io" else first), rest
    return f"{registry}/{path.split(':', 1)[0]}"


def root_purl(metadata: dict) -> str:
    """``purl.parseOCI`` of a report's Metadata: the scanned image's purl."""
    repo_digest = metadata["RepoDigests"][0]
    repository = repository_url_of(repo_digest)
    name = repository.rsplit("/", 1)[-1].lower()
    digest = repo_digest.split("@", 1)[1]
    qualifiers = {"repository_url": repository}
    arch = metadata.get("ImageConfig", {}).get("architecture")
    if arch:
        qualifiers["arch"] = arch
    query = "&".join(f"{k}={qualifier_value(v)}" for k, v in sorted(qualifiers.items()))
    return f"pkg:oci/{name}@{digest}?{query}"


def index_key(purl: str) -> str:
    """The id ``RepositorySet.NotAffected`` looks up: no version, no qualifiers but an
    OCI purl's repository_url."""
    parsed = parse_purl(purl)
    base = "pkg:" + "/".join(filter(None, [parsed.type, parsed.namespace, parsed.name]))
    if parsed.type == "oci" and "repository_url" in parsed.qualifiers:
        return f"{base}?repository_url={qualifier_value(parsed.qualifiers['repository_url'])}"
    return base


def filtered(report: dict, index: dict, documents: dict[str, dict]) -> set[tuple[str, str]]:
    """The (vulnerability id, package purl) pairs of ``report`` that Trivy with this VEX
    repository (``index.json`` and its documents by location) no longer reports. The
    component tree is Trivy's for an image: package -> (OS or application) -> root."""
    by_id = {entry["id"]: documents[entry["location"]] for entry in index["packages"]}
    root = root_purl(report["Metadata"])
    out = set()
    for result in report.get("Results", []):
        for vuln in result.get("Vulnerabilities", []):
            leaf = vuln["PkgIdentifier"]["PURL"]
            vuln_id = vuln["VulnerabilityID"]
            for product, sub in ((leaf, ""), (root, leaf)):  # the OS node has no purl
                document = by_id.get(index_key(product))
                if document is not None and not_affected(document, vuln_id, product, sub):
                    out.add((vuln_id, leaf))
    return out
