"""Every VEX fixture read by its parser: statement counts, statuses, justifications and
products, table by table; and each valid by its format's published schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from findings.parsers.vex import detect, load_vex

from .schemas import schema_errors

VEX = Path(__file__).parents[1] / "fixtures" / "vex"
ALL = sorted(p.relative_to(VEX).as_posix() for p in VEX.glob("[oc]*/*.json"))
NOT_SCHEMA_VALID = {
    # the older OpenVEX contexts: a vulnerability and a product as strings, version "1"
    "openvex/go_vex_v0.0.1.json",
    "openvex/go_vex_ns_noversion.json",
    # Trivy's own test documents name no document @id (the 0.2.0 schema requires one)
    "openvex/trivy_testdata_oci.json",
    "openvex/trivy_testdata_nested.json",
}
# file: (format, document id, author, version, statements, {status: count})
TABLE = {
    "openvex/trivy_oci.openvex.json": (
        "openvex",
        "https://openvex.dev/docs/public/vex-8e30ed756ae8e4196af93bf43edf68360f396a98c0268787453a3443b26e7d6c",
        "Aqua Security",
        "1",
        7,
        {"not_affected": 7},
    ),
    "openvex/trivy_testdata_oci.json": (
        "openvex",
        "",
        "Aqua Security",
        "1",
        1,
        {"not_affected": 1},
    ),
    "openvex/trivy_testdata_nested.json": (
        "openvex",
        "",
        "Aqua Security",
        "1",
        1,
        {"not_affected": 1},
    ),
    "openvex/go_vex_v0.2.0.json": (
        "openvex",
        "https://openvex.dev/docs/public/vex-d4e9020b6d0d26f131d535e055902dd6ccf3e2088bce3079a8cd3588a4b14c78",
        "The OpenVEX Project <openvex@openssf.org>",
        "1",
        5,
        {"fixed": 3, "not_affected": 2},
    ),
    "openvex/go_vex_v0.0.1.json": (
        "openvex",
        "https://openvex.dev/docs/example/vex-9fb3463de1b57",
        "Wolfi J Inkinson",
        "1",
        1,
        {"fixed": 1},
    ),
    "openvex/go_vex_ns_noversion.json": (
        "openvex",
        "https://openvex.dev/docs/example/vex-9fb3463de1b57",
        "Wolfi J Inkinson",
        "1",
        1,
        {"fixed": 1},
    ),
    "csaf/oasis_2022-evd-uc-01-na-001.json": (
        "csaf",
        "2022-EVD-UC-01-NA-001",
        "Example Company ProductCERT",
        "1",
        1,
        {"not_affected": 1},
    ),
    "csaf/oasis_2022-evd-uc-01-a-001.json": (
        "csaf",
        "2022-EVD-UC-01-A-001",
        "Example Company ProductCERT",
        "1",
        1,
        {"affected": 1},
    ),
    "csaf/oasis_2022-evd-uc-01-f-001.json": (
        "csaf",
        "2022-EVD-UC-01-F-001",
        "Example Company ProductCERT",
        "1",
        1,
        {"fixed": 1},
    ),
    "csaf/oasis_2022-evd-uc-01-ui-001.json": (
        "csaf",
        "2022-EVD-UC-01-UI-001",
        "Example Company ProductCERT",
        "1",
        1,
        {"under_investigation": 1},
    ),
    "csaf/oasis_2022-evd-uc-02-na-001.json": (
        "csaf",
        "2022-EVD-UC-02-NA-001",
        "Example Company ProductCERT",
        "1",
        19,
        {"not_affected": 19},
    ),
    "csaf/oasis_sec-vex-2022-0001.json": (
        "csaf",
        "SEC-VEX-2022-0001",
        "Secvisogram",
        "1",
        3,
        {"not_affected": 3},
    ),
    "csaf/oasis_rhsa-2021_5217.json": (
        "csaf",
        "RHSA-2021:5217",
        "Red Hat Product Security",
        "1",
        1,
        {"fixed": 1},
    ),
    "csaf/trivy_csaf.json": (
        "csaf",
        "2022-EVD-UC-01-A-001",
        "Example Company ProductCERT",
        "1",
        1,
        {"not_affected": 1},
    ),
    "csaf/trivy_csaf_relationships.json": (
        "csaf",
        "fcf5bd33-41c3-45f9-885a-c2ee812f49c9",
        "VMWare, Inc.",
        "1",
        1,
        {"not_affected": 1},
    ),
    "cyclonedx/bom_examples_vex.json": ("cyclonedx", "", "", "1", 1, {"not_affected": 1}),
    "cyclonedx/cisa_case1_not_affected.json": ("cyclonedx", "", "", "1", 1, {"not_affected": 1}),
    "cyclonedx/cisa_case1_fixed.json": ("cyclonedx", "", "", "1", 1, {"fixed": 1}),
    "cyclonedx/cisa_case1_under_investigation.json": (
        "cyclonedx",
        "",
        "",
        "1",
        1,
        {"under_investigation": 1},
    ),
    "cyclonedx/cisa_case2.json": ("cyclonedx", "", "", "1", 19, {"not_affected": 19}),
    "cyclonedx/trivy_cyclonedx.json": ("cyclonedx", "", "", "1", 2, {"not_affected": 2}),
}


def read(name: str):
    return load_vex((VEX / name).read_bytes())


def test_every_fixture_is_in_the_table():
    assert sorted(TABLE) == ALL


@pytest.mark.parametrize("name", ALL)
def test_fixture_reads_as_the_table_says(name):
    fmt, doc_id, author, version, count, statuses = TABLE[name]
    document = read(name)
    found = {}
    for statement in document.statements:
        found[statement.status] = found.get(statement.status, 0) + 1
    assert (document.format, document.document_id, document.author, document.version) == (
        fmt,
        doc_id,
        author,
        version,
    )
    assert (len(document.statements), found) == (count, statuses)
    assert detect(json.loads((VEX / name).read_bytes())) == fmt


@pytest.mark.parametrize("name", [n for n in ALL if n not in NOT_SCHEMA_VALID])
def test_fixture_is_valid_by_its_published_schema(name):
    assert schema_errors(json.loads((VEX / name).read_bytes())) == []


@pytest.mark.parametrize("name", sorted(NOT_SCHEMA_VALID))
def test_the_older_and_test_documents_are_known_not_to_be_schema_valid(name):
    assert schema_errors(json.loads((VEX / name).read_bytes()))


def test_openvex_products_by_repository_url_keep_their_subcomponents():
    first = read("openvex/trivy_oci.openvex.json").statements[0]
    assert first.vulnerability_id == "CVE-2023-42363"
    assert first.justification == "vulnerable_code_cannot_be_controlled_by_adversary"
    assert first.impact == "awk is not used"
    assert [p.id for p in first.products] == [
        "pkg:oci/trivy?repository_url=index.docker.io%2Faquasec%2Ftrivy",
        "pkg:oci/trivy?repository_url=public.ecr.aws%2Faquasecurity%2Ftrivy",
        "pkg:oci/trivy?repository_url=ghcr.io/aquasecurity/trivy",
    ]
    assert first.products[0].subcomponents == (
        "pkg:apk/alpine/busybox",
        "pkg:apk/alpine/busybox-binsh",
        "pkg:apk/alpine/ssl_client",
    )


def test_openvex_older_context_reads_string_vulnerability_and_products():
    statement = read("openvex/go_vex_v0.0.1.json").statements[0]
    assert (statement.vulnerability_id, statement.status) == ("CVE-2023-12345", "fixed")
    assert [p.id for p in statement.products] == [
        "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
        "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",
    ]


def test_openvex_digest_product_and_impact():
    statements = read("openvex/go_vex_v0.2.0.json").statements
    last = statements[-1]
    assert (last.vulnerability_id, last.status, last.justification) == (
        "CVE-2023-3817",
        "not_affected",
        "vulnerable_code_not_present",
    )
    assert last.products[0].id.startswith("pkg:oci/alpine@sha256%3A124c7d27")
    assert last.impact == "affected functions were removed before packaging"


def test_csaf_purl_from_the_product_tree_and_impact_from_threats():
    statement = read("csaf/trivy_csaf.json").statements[0]
    assert [p.id for p in statement.products] == [
        "pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0"
    ]
    assert statement.impact == "vulnerable_code_not_in_execute_path"


def test_csaf_relationship_is_a_product_with_its_component_and_a_flag_justifies():
    statement = read("csaf/trivy_csaf_relationships.json").statements[0]
    assert statement.justification == "vulnerable_code_cannot_be_controlled_by_adversary"
    assert statement.original_justification == statement.justification
    product = statement.products[0]
    assert product.id == "pkg:golang/github.com/aquasecurity/go-direct1@v2.0.0"
    assert product.subcomponents == ("pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0",)


def test_csaf_flags_label_the_justification():
    statements = read("csaf/oasis_sec-vex-2022-0001.json").statements
    assert {s.justification for s in statements} == {"component_not_present"}


def test_csaf_security_advisory_product_status_is_read():
    statement = read("csaf/oasis_rhsa-2021_5217.json").statements[0]
    assert (statement.vulnerability_id, statement.status) == ("CVE-2021-4133", "fixed")


def test_cyclonedx_justification_is_mapped_and_kept():
    statement = read("cyclonedx/cisa_case1_not_affected.json").statements[0]
    assert (statement.justification, statement.original_justification) == (
        "vulnerable_code_not_present",
        "code_not_present",
    )
    assert statement.action == "will_not_fix"
    assert [p.id for p in statement.products] == ["product-ABC"]


def test_cyclonedx_bom_link_refs_are_read_as_purls():
    first, second = read("cyclonedx/trivy_cyclonedx.json").statements
    assert [p.id for p in first.products] == [
        "pkg:maven/org.springframework.boot/spring-boot@2.6.0"
    ]
    assert first.justification == "vulnerable_code_not_in_execute_path"
    assert second.products[0].id.startswith("pkg:deb/ubuntu/libstdc%2B%2B6@12.3.0")


def test_cyclonedx_references_are_aliases():
    statement = read("cyclonedx/bom_examples_vex.json").statements[0]
    assert statement.aliases == ("SNYK-JAVA-COMFASTERXMLJACKSONCORE-1048302",)
    assert statement.products[0].id.startswith(
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@"
    )


def test_every_vex_fixture_has_its_source_line():
    lines = (VEX.parent / "SOURCES.tsv").read_text().splitlines()
    listed = {line.split("\t")[0] for line in lines}
    files = {p.relative_to(VEX.parent).as_posix() for p in VEX.rglob("*.json")}
    assert files - listed == set()
    for line in lines:
        if line.startswith("vex/"):
            _name, repository, path, commit, license_, notes = line.split("\t")
            assert len(commit) == 40 and repository.count("/") == 1 and path and license_ and notes
