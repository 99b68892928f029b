"""What the Helm chart gives a cluster, read from its committed render.

deploy/kubernetes/remediator.yaml is `helm template` of deploy/helm/remediator with
deploy/kubernetes/values.yaml (deploy/helm/test.sh checks that it equals a fresh
render, and lints and validates the chart for other value sets); these tests read it,
so the normal suite checks the chart's output without Helm.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PLAIN = ROOT / "deploy" / "kubernetes"
RENDER = PLAIN / "remediator.yaml"
NAMESPACE = "remediator"
POD_KINDS = {"Deployment", "StatefulSet", "Job"}


def _documents() -> dict[tuple[str, str], dict]:
    found = {}
    for doc in yaml.safe_load_all(RENDER.read_text()):
        if doc:
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def _pod_template(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return doc["spec"]["template"]


def _workloads() -> dict[tuple[str, str], dict]:
    return {key: doc for key, doc in _documents().items() if key[0] in POD_KINDS | {"CronJob"}}


def _selects(selector: dict, doc: dict) -> bool:
    return selector.items() <= _pod_template(doc)["metadata"]["labels"].items()


def _webhook() -> dict:
    (config,) = [doc for (kind, _), doc in _documents().items() if kind.startswith("Validating")]
    return config


def test_the_render_holds_every_part_a_cluster_needs():
    kinds = {kind for kind, _ in _documents()}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "Job", "CronJob"} <= kinds
    assert {"ValidatingWebhookConfiguration", "Issuer", "Certificate"} <= kinds
    assert {"PodDisruptionBudget", "ServiceAccount", "ClusterRole", "ClusterRoleBinding"} <= kinds
    deployments = {name for kind, name in _documents() if kind == "Deployment"}
    assert deployments == {
        "remediator-web",
        "remediator-admission",
        "remediator-worker-ingest",
        "remediator-worker-actions",
        "remediator-beat",
    }
    assert RENDER.read_text().startswith("# Rendered from the Helm chart deploy/helm/remediator")


def test_every_resource_carries_the_recommended_labels():
    for (kind, name), doc in _documents().items():
        labels = doc["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "remediator", (kind, name)
        assert labels["app.kubernetes.io/instance"] == "remediator", (kind, name)
        assert labels["app.kubernetes.io/managed-by"] == "Helm", (kind, name)
        assert labels["helm.sh/chart"].startswith("remediator-"), (kind, name)
        assert labels["app.kubernetes.io/component"], (kind, name)
        if kind not in {"ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"}:
            assert doc["metadata"]["namespace"] == NAMESPACE, (kind, name)


def test_the_webhook_configuration():
    config = _webhook()
    (hook,) = config["webhooks"]
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["sideEffects"] == "None"
    assert hook["failurePolicy"] == "Ignore"
    assert hook["timeoutSeconds"] == 5
    assert hook["timeoutSeconds"] > settings.ADMISSION_DEADLINE_SECONDS
    assert hook["clientConfig"]["service"] == {
        "namespace": NAMESPACE,
        "name": "remediator-admission",
        "path": "/api/v1/admission/validate",
        "port": 443,
    }
    (excluded,) = hook["namespaceSelector"]["matchExpressions"]
    assert excluded["key"] == "kubernetes.io/metadata.name" and excluded["operator"] == "NotIn"
    assert set(excluded["values"]) == {"kube-system", NAMESPACE}
    rules = {
        (group, resource)
        for rule in hook["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert rules == {
        ("", "pods"),
        ("", "pods/ephemeralcontainers"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
    }
    assert all(rule["operations"] == ["CREATE", "UPDATE"] for rule in hook["rules"])


def test_cert_manager_signs_the_admission_service_and_injects_its_ca():
    docs = _documents()
    ca_from = _webhook()["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]
    namespace, name = ca_from.split("/")
    certificate = docs[("Certificate", name)]
    assert namespace == NAMESPACE
    assert "remediator-admission.remediator.svc" in certificate["spec"]["dnsNames"]
    issuer = docs[("Issuer", certificate["spec"]["issuerRef"]["name"])]
    ca = docs[("Certificate", issuer["spec"]["ca"]["secretName"])]
    assert ca["spec"]["isCA"] is True
    assert "selfSigned" in docs[("Issuer", ca["spec"]["issuerRef"]["name"])]["spec"]
    admission = _pod_template(docs[("Deployment", "remediator-admission")])["spec"]
    (tls,) = [volume for volume in admission["volumes"] if "secret" in volume]
    assert tls["secret"]["secretName"] == certificate["spec"]["secretName"]


def test_admission_is_its_own_deployment_behind_its_own_service():
    docs = _documents()
    service = docs[("Service", _webhook()["webhooks"][0]["clientConfig"]["service"]["name"])]
    selector = service["spec"]["selector"]
    own = [name for (kind, name), doc in _workloads().items() if _selects(selector, doc)]
    assert own == ["remediator-admission"]  # no other pod answers the API server
    web = docs[("Service", "remediator")]["spec"]["selector"]
    assert [name for (_, name), doc in _workloads().items() if _selects(web, doc)] == [
        "remediator-web"
    ]
    (container,) = _pod_template(docs[("Deployment", "remediator-admission")])["spec"]["containers"]
    assert container["args"] == ["admission"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["TLS_CERT_FILE"].startswith("/etc/remediator/tls/")
    assert env["TLS_KEY_FILE"].startswith("/etc/remediator/tls/")
    assert container["readinessProbe"]["httpGet"]["scheme"] == "HTTPS"
    assert service["spec"]["ports"][0]["port"] == 443


def test_beat_is_exactly_one_pod_replaced_never_doubled():
    beat = _documents()[("Deployment", "remediator-beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert _pod_template(beat)["spec"]["containers"][0]["args"] == ["beat"]


def test_every_queue_has_a_worker():
    queues = set()
    for (_, name), doc in _workloads().items():
        if name.startswith("remediator-worker-"):
            (container,) = _pod_template(doc)["spec"]["containers"]
            assert container["args"] == ["worker"]
            env = {item["name"]: item["value"] for item in container["env"]}
            queues |= set(env["WORKER_QUEUES"].split(","))
            assert int(env["WORKER_CONCURRENCY"]) >= 1
    assert queues == {"ingest", "actions", "housekeeping"}


def test_migrate_runs_as_a_hook_before_install_and_upgrade_with_its_own_settings():
    docs = _documents()
    job = docs[("Job", "remediator-migrate")]
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    assert job["spec"]["backoffLimit"] >= 1 and job["spec"]["activeDeadlineSeconds"] > 0
    spec = _pod_template(job)["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["containers"][0]["args"] == ["migrate"]
    # A pre-install hook runs before the release's own ConfigMap and Secret exist: what
    # it reads must be hooks of the same phases, created first (a lower weight).
    for source in spec["containers"][0]["envFrom"]:
        ref = source.get("configMapRef") or source["secretRef"]
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        if ref["name"] == "remediator-env":
            continue  # existingSecret: made before the install
        hook = docs[(kind, ref["name"])]["metadata"]["annotations"]
        assert hook["helm.sh/hook"] == annotations["helm.sh/hook"]
        assert int(hook["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    assert "helm.sh/hook" not in docs[("ConfigMap", "remediator")]["metadata"].get(
        "annotations", {}
    )
    assert (
        docs[("ConfigMap", "remediator-migrate")]["data"]
        == (docs[("ConfigMap", "remediator")]["data"])
    )


def test_every_pod_runs_unprivileged_on_a_read_only_root():
    for (_, name), doc in _workloads().items():
        spec = _pod_template(doc)["spec"]
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] == pod["runAsGroup"] == 10001, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {volume["name"]: volume for volume in spec["volumes"]}
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], name
            assert mounts["/var/lib/remediator"] in volumes, name  # DATA_DIR, writable
            assert container["resources"]["requests"], name
            assert container["resources"]["limits"]["memory"], name


def test_only_the_inventory_cronjob_gets_a_token_and_it_may_only_list_pods():
    docs = _documents()
    for (kind, name), doc in _workloads().items():
        spec = _pod_template(doc)["spec"]
        assert spec["automountServiceAccountToken"] is (kind == "CronJob"), name
    cronjob = docs[("CronJob", "remediator-inventory")]
    assert cronjob["spec"]["schedule"] == "*/15 * * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    spec = _pod_template(cronjob)["spec"]
    assert spec["containers"][0]["args"] == [
        "manage",
        "inventory_import",
        "--from-cluster",
        "--cluster",
        "prod",
    ]
    account = spec["serviceAccountName"]
    (binding,) = [doc for (kind, _), doc in docs.items() if kind == "ClusterRoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}
    ]
    role = docs[("ClusterRole", binding["roleRef"]["name"])]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]


def test_probes_name_an_allowed_host_and_readyz_gates_a_new_web_pod():
    docs = _documents()
    allowed = docs[("ConfigMap", "remediator")]["data"]["ALLOWED_HOSTS"].split(",")
    assert "remediator-admission.remediator.svc" in allowed  # the API server's Host
    for name in ("remediator-web", "remediator-admission"):
        (container,) = _pod_template(docs[("Deployment", name)])["spec"]["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            (host,) = container[probe]["httpGet"]["httpHeaders"]
            assert host["name"] == "Host" and host["value"] in allowed, (name, probe)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    (web,) = _pod_template(docs[("Deployment", "remediator-web")])["spec"]["containers"]
    assert web["startupProbe"]["httpGet"]["path"] == "/readyz"
    # Ready while the database is down, so webhooks are spooled rather than refused.
    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_disruption_budgets_cover_web_admission_and_every_worker():
    docs = _documents()
    covered = set()
    for (kind, _), doc in docs.items():
        if kind == "PodDisruptionBudget":
            assert doc["spec"]["maxUnavailable"] == 1
            covered |= {
                workload
                for (_, workload), pods in _workloads().items()
                if _selects(doc["spec"]["selector"]["matchLabels"], pods)
            }
    deployments = {name for kind, name in docs if kind == "Deployment"}
    assert covered == deployments - {"remediator-beat"}


def test_the_api_server_token_config_names_the_admission_service():
    service = _webhook()["webhooks"][0]["clientConfig"]["service"]
    admission_config, kubeconfig = yaml.safe_load_all(
        (PLAIN / "apiserver-admission-config.yaml").read_text()
    )
    assert admission_config["kind"] == "AdmissionConfiguration"
    (user,) = kubeconfig["users"]
    assert user["name"] == f"{service['name']}.{service['namespace']}.svc"
