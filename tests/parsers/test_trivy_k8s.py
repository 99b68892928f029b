"""Trivy Kubernetes reports: one scan per image, with the workloads it runs in."""

from __future__ import annotations

import copy

import pytest

from findings.parsers import ParseError, detect, parse, parse_all

from .conftest import fixture_document

ALPINE = (
    "docker.io/library/alpine:3.14"
    "@sha256:8fe1727132b2506c17ba0e1f6a6ed8a016bb1f5735e43b2738cd3fd1979b6260"
)
BUSYBOX = (
    "docker.io/library/busybox:1.36.1"
    "@sha256:6d9ac9237a84afe1516540f40a0fafdc86859b2141954b4d643af7066d598b74"
)
NGINX = (
    "docker.io/library/nginx:1.25.3"
    "@sha256:4c0fdaa8b6341bfdeca5f18f7837462c80cff90527ee35ef185571e1c327beac"
)


def k8s(name: str) -> object:
    return fixture_document("trivy", f"k8s/{name}")


@pytest.mark.parametrize(
    "name", ["report_all_three_images.json", "report_summary_merged_workload.json"]
)
def test_each_image_is_one_scan_with_its_workloads(name):
    scans = parse_all("trivy-k8s", k8s(name))

    assert [str(s.image) for s in scans] == [ALPINE, BUSYBOX, NGINX]
    alpine, busybox, nginx = scans
    assert {s.source for s in scans} == {"trivy-k8s"}
    assert {f.key for f in alpine.findings} == {
        ("CVE-2022-37434", "zlib", "1.2.11-r3"),
        ("CVE-2021-42378", "busybox", "1.33.1-r3"),
    }
    assert alpine.os == "alpine 3.14.2"
    assert busybox.findings == ()  # scanned clean: still a scan, it can close findings
    assert [f.key for f in nginx.findings] == [("CVE-2023-6246", "libc6", "2.36-9+deb12u3")]
    assert nginx.findings[0].package_type == "deb"
    assert nginx.findings[0].fixed_versions == ("2.36-9+deb12u4",)
    assert [w.as_dict() for w in nginx.workloads] == [
        {"cluster": "kind-remediator", "namespace": "default", "kind": "Deployment", "name": "web"}
    ]


def test_an_image_in_two_workloads_lists_both():
    alpine = parse_all("trivy-k8s", k8s("report_all_three_images.json"))[0]

    assert [(w.namespace, w.kind, w.name) for w in alpine.workloads] == [
        ("default", "Deployment", "orion"),
        ("kube-system", "DaemonSet", "log-shipper"),
    ]


def test_the_documented_older_shape_names_its_image_in_the_os_target():
    (scan,) = parse_all("trivy-k8s", k8s("docs_minikube.json"))

    assert str(scan.image) == "docker.io/library/ubuntu:latest"
    assert [f.key for f in scan.findings] == [("CVE-2016-2781", "coreutils", "8.32-4.1ubuntu1")]
    assert scan.workloads[0].as_dict() == {
        "cluster": "minikube",
        "namespace": "default",
        "kind": "Deployment",
        "name": "app",
    }


def test_a_merged_workload_that_cannot_be_split_is_refused_with_the_way_out():
    document = copy.deepcopy(k8s("report_summary_merged_workload.json"))
    web = document["Findings"][1]
    web["Results"] = [r for r in web["Results"] if r["Class"] != "os-pkgs"] + web["Results"]

    with pytest.raises(ParseError, match="--report all"):
        parse_all("trivy-k8s", document)


def test_resources_without_an_image_are_skipped():
    document = {
        "ClusterName": "c",
        "Resources": [k8s("report_all_three_images.json")["Resources"][-1]],
    }

    assert parse_all("trivy-k8s", document) == ()


@pytest.mark.parametrize(
    "name",
    ["report_all_three_images.json", "report_summary_merged_workload.json", "docs_minikube.json"],
)
def test_detected_as_trivy_k8s_though_it_carries_schema_version(name):
    assert detect(k8s(name)) == "trivy-k8s"


def test_single_scan_parse_refuses_a_report_of_several_images():
    with pytest.raises(ParseError, match="3 image scans"):
        parse("trivy-k8s", k8s("report_all_three_images.json"))


@pytest.mark.parametrize(
    "document",
    [{"ClusterName": "c", "Resources": "x"}, {"Resources": {}}, [], "text", None, {"foo": 1}],
)
def test_wrong_shapes_are_refused(document):
    with pytest.raises(ParseError, match="trivy-k8s: expected"):
        parse_all("trivy-k8s", document)
