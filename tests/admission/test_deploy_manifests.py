"""deploy/kubernetes parses, and says what a cluster needs."""

from __future__ import annotations

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def _documents() -> dict[tuple[str, str], dict]:
    found = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                found[(doc["kind"], doc.get("metadata", {}).get("name", ""))] = doc
    return found


def test_every_manifest_parses_and_names_its_kind():
    kinds = {kind for kind, _ in _documents()}
    assert {"Namespace", "Deployment", "Service", "ValidatingWebhookConfiguration"} <= kinds
    assert {"Issuer", "Certificate", "CronJob", "ClusterRole", "AdmissionConfiguration"} <= kinds


def test_the_webhook_configuration():
    config = _documents()[("ValidatingWebhookConfiguration", "remediator-image-policy")]
    ca_from = config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
    assert ca_from == "remediator/remediator-webhook-tls"
    (hook,) = config["webhooks"]
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["sideEffects"] == "None"
    assert hook["failurePolicy"] in ("Ignore", "Fail")
    assert 1 <= hook["timeoutSeconds"] <= 30
    assert hook["clientConfig"]["service"]["path"] == "/api/v1/admission/validate"
    (excluded,) = hook["namespaceSelector"]["matchExpressions"]
    assert excluded["key"] == "kubernetes.io/metadata.name" and excluded["operator"] == "NotIn"
    assert {"kube-system", "remediator"} <= set(excluded["values"])
    resources = {r for rule in hook["rules"] for r in rule["resources"]}
    assert {"pods", "deployments", "statefulsets", "daemonsets", "replicasets"} <= resources
    assert {"jobs", "cronjobs", "pods/ephemeralcontainers"} <= resources


def test_web_worker_and_beat_and_the_service_reach_the_web_pods():
    docs = _documents()
    web = docs[("Deployment", "remediator-web")]["spec"]["template"]
    assert "--certfile" in web["spec"]["containers"][0]["command"]
    assert docs[("Deployment", "remediator-beat")]["spec"]["replicas"] == 1
    assert (
        "worker"
        in docs[("Deployment", "remediator-worker")]["spec"]["template"]["spec"]["containers"][0][
            "command"
        ]
    )
    service = docs[("Service", "remediator")]["spec"]
    assert service["selector"].items() <= web["metadata"]["labels"].items()
    certificate = docs[("Certificate", "remediator-webhook-tls")]["spec"]
    assert "remediator.remediator.svc" in certificate["dnsNames"]
    assert certificate["secretName"] == web["spec"]["volumes"][0]["secret"]["secretName"]


def test_admission_has_its_own_deployment_service_and_certificate_name():
    docs = _documents()
    (hook,) = docs[("ValidatingWebhookConfiguration", "remediator-image-policy")]["webhooks"]
    service_name = hook["clientConfig"]["service"]["name"]
    selector = docs[("Service", service_name)]["spec"]["selector"]
    own = [
        name
        for (kind, name), doc in docs.items()
        if kind == "Deployment"
        and selector.items() <= doc["spec"]["template"]["metadata"]["labels"].items()
    ]
    assert own == ["remediator-admission"]  # no other pod answers the API server
    web = docs[("Service", "remediator")]["spec"]["selector"]
    admission = docs[("Deployment", "remediator-admission")]["spec"]["template"]
    assert not web.items() <= admission["metadata"]["labels"].items()
    assert admission["spec"]["containers"][0]["command"][0] == "gunicorn"
    names = docs[("Certificate", "remediator-webhook-tls")]["spec"]["dnsNames"]
    assert f"{service_name}.remediator.svc" in names
    assert hook["timeoutSeconds"] > 2  # ADMISSION_DEADLINE_SECONDS' default is inside it
