"""Trivy Operator VulnerabilityReports, as JSON or YAML, one or a List."""

from __future__ import annotations

import copy
import json

import pytest

from findings.parsers import ParseError, detect, load_body, parse_all

from .conftest import FIXTURES

OPERATOR = FIXTURES / "trivy" / "operator"


def body(name: str) -> bytes:
    return (OPERATOR / name).read_bytes()


def test_a_yaml_resource_is_one_scan_with_its_workload_and_container():
    (scan,) = parse_all(
        "trivy-operator", load_body("trivy-operator", body("docs_replicaset_nginx.yaml"))
    )

    assert str(scan.image) == "docker.io/library/nginx:1.16"  # index.docker.io is Docker Hub
    assert scan.scanner == "Trivy 0.72.0"
    assert scan.os == "debian 10.3"
    assert [w.as_dict() for w in scan.workloads] == [
        {
            "namespace": "default",
            "kind": "ReplicaSet",
            "name": "nginx-6d4cf56db6",
            "container": "nginx",
        }
    ]
    first = scan.findings[0]
    assert (first.vulnerability_id, first.package, first.installed_version) == (
        "CVE-2019-20367", "libbsd0", "0.9.1-2",
    )  # fmt: skip
    assert first.severity == "critical"
    assert first.cvss_score == 9.1
    assert first.fixed_versions == ("0.9.1-2+deb10u1",)
    assert first.links == ("https://avd.aquasec.com/nvd/cve-2019-20367",)
    assert scan.findings[1].fixed_versions == ()


def test_the_update_timestamp_is_the_scan_time_and_stays_text_in_yaml():
    document = load_body("trivy-operator", body("envtest_vulnerability_ttl.yaml"))
    (scan,) = parse_all("trivy-operator", document)

    assert document["report"]["updateTimestamp"] == "2022-12-08T15:50:37Z"
    assert scan.scanned_at.isoformat() == "2022-12-08T15:50:37+00:00"
    assert str(scan.image) == "k8s.gcr.io/coredns/coredns:v1.8.0"
    assert scan.workloads[0].namespace == "kube-system"


def test_a_kubectl_list_gives_one_scan_per_image_sorted():
    document = load_body("auto", body("kubectl_list_two_reports.json"))
    scans = parse_all("auto", document)

    assert [str(s.image) for s in scans] == [
        "docker.io/library/nginx:1.16",
        "k8s.gcr.io/coredns/coredns:v1.8.0",
    ]
    assert {s.source for s in scans} == {"trivy-operator"}


def test_the_same_image_in_two_workloads_is_one_scan():
    document = json.loads(body("kubectl_list_two_reports.json"))
    other = copy.deepcopy(document["items"][1])
    other["metadata"]["labels"]["trivy-operator.resource.name"] = "nginx-canary"
    other["report"]["vulnerabilities"] = other["report"]["vulnerabilities"][:1]
    document["items"].append(other)

    nginx = parse_all("trivy-operator", document)[0]

    assert [w.name for w in nginx.workloads] == ["nginx-6d4cf56db6", "nginx-canary"]
    assert len(nginx.findings) == 2


def test_several_yaml_documents_are_read_as_a_list():
    both = body("docs_replicaset_nginx.yaml") + b"\n---\n" + body("envtest_vulnerability_ttl.yaml")

    assert len(parse_all("trivy-operator", load_body("trivy-operator", both))) == 2


def test_vulnerability_report_list_kind_is_accepted():
    document = json.loads(body("kubectl_list_two_reports.json"))
    document["kind"] = "VulnerabilityReportList"
    document["apiVersion"] = "aquasecurity.github.io/v1alpha1"

    assert detect(document) == "trivy-operator"
    assert len(parse_all("trivy-operator", document)) == 2


def test_yaml_is_read_only_for_the_operator_format():
    with pytest.raises(ParseError, match="not JSON"):
        load_body("trivy", body("docs_replicaset_nginx.yaml"))


def test_yaml_aliases_are_refused():
    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"

    with pytest.raises(ParseError, match="alias"):
        load_body("trivy-operator", bomb)


@pytest.mark.parametrize(
    "document",
    [
        {"kind": "Pod", "report": {}},
        {"kind": "VulnerabilityReport"},
        {"kind": "List", "items": {}},
        {"kind": "VulnerabilityReport", "report": {"artifact": {}}},
        {
            "kind": "VulnerabilityReport",
            "report": {"artifact": {"repository": "a"}, "vulnerabilities": {}},
        },
        "text",
        None,
    ],
)
def test_what_is_not_a_vulnerability_report_is_refused(document):
    with pytest.raises(ParseError, match="trivy-operator"):
        parse_all("trivy-operator", document)
