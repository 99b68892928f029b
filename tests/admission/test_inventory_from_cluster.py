"""`inventory_import --from-cluster`: the pod list read from the Kubernetes API (a fake API
server on 127.0.0.1 that pages as the real one does) is recorded as the file import records
the same pods; every way the list cannot be had is one named error, exit status 2 and
nothing recorded."""

from __future__ import annotations

import json
import shutil
import socket
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pytest_httpserver import HTTPServer

from findings.models import Image, RunningImage
from tests.engine.factories import ingest

from .fake_kubernetes import FakeApiServer, kubectl_list, real_pods, tls_material

pytestmark = pytest.mark.django_db

SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-token-one"
ROTATED = "eyJhbGciOiJSUzI1NiJ9.service-account-token-two"
TOKEN = "kubernetes-token-for-api-url"
KUARD_DIGEST = "sha256:bd17153e9a3319f401acc7a27759243f37d422c06cbbf01cb3e1f54bbbfe14f4"


@pytest.fixture(scope="session")
def cluster_ca(tmp_path_factory):
    """(the cluster CA's certificate, the API server's TLS context, a stranger CA)."""
    return tls_material(tmp_path_factory.mktemp("kubernetes-ca"))


@pytest.fixture
def https_server(cluster_ca):
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=cluster_ca[1])
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def service_account(tmp_path, settings, monkeypatch, https_server, cluster_ca):
    """The pod's environment and service account mount, as the kubelet provides them."""
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text(SA_TOKEN)
    shutil.copy(cluster_ca[0], directory / "ca.crt")
    settings.KUBERNETES_SERVICEACCOUNT_DIR = str(directory)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(https_server.port))
    return directory


@pytest.fixture
def in_cluster(https_server, service_account) -> FakeApiServer:
    return FakeApiServer(real_pods(), SA_TOKEN).serve(https_server)


@pytest.fixture
def api_url(httpserver, monkeypatch) -> tuple[FakeApiServer, str]:
    """A plain-http API server on 127.0.0.1 (PLAIN_HTTP_HOSTS), called with --api-url."""
    monkeypatch.setenv("KUBERNETES_TOKEN", TOKEN)
    api = FakeApiServer(real_pods(), TOKEN).serve(httpserver)
    return api, httpserver.url_for("/")


def run(*args: str) -> dict:
    out = StringIO()
    call_command("inventory_import", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue())


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("inventory_import", *args, stdout=StringIO(), stderr=StringIO())
    assert caught.value.returncode == 2
    return str(caught.value)


def recorded() -> list[tuple]:
    fields = ("cluster", "namespace", "kind", "name", "container", "image_ref", "digest")
    return sorted(RunningImage.objects.values_list(*fields, "repository", "image", "source"))


def test_from_cluster_records_the_same_rows_as_the_file_import_of_the_same_pods(
    in_cluster, tmp_path
):
    kuard = ingest(image="gcr.io/kuar-demo/kuard-amd64", tag="1", digest_no=1)
    Image.objects.create(repository_id=kuard.image.repository_id, digest=KUARD_DIGEST)
    pods_file = tmp_path / "pods.json"
    pods_file.write_text(json.dumps(kubectl_list(real_pods())))
    from_file = run(str(pods_file), "--cluster", "prod")
    expected = recorded()
    RunningImage.objects.all().delete()

    answer = run("--from-cluster", "--cluster", "prod")

    assert answer == from_file == {"cluster": "prod", "containers": 3, "refused": 0}
    assert recorded() == expected
    assert ("prod", "default", "ReplicaSet", "queue", "queue") in [row[:5] for row in expected]
    assert any(row[8] for row in expected)  # the kuard container is linked to its Image
    pages = [args for args, _ in in_cluster.seen]
    assert [page.get("limit") for page in pages] == ["500"] * 3
    assert "continue" not in pages[0]
    assert [page["continue"] for page in pages[1:]] == in_cluster.issued


def test_the_service_account_token_is_sent_as_bearer_and_read_again_for_every_request(
    in_cluster, service_account
):
    def rotate() -> None:  # the kubelet rotates the projected token while the list is read
        (service_account / "token").write_text(ROTATED)
        in_cluster.token = ROTATED

    in_cluster.after_page = rotate

    assert run("--from-cluster")["containers"] == 3
    assert [auth for _, auth in in_cluster.seen] == [
        f"Bearer {SA_TOKEN}",
        f"Bearer {ROTATED}",
        f"Bearer {ROTATED}",
    ]


def test_an_expired_continue_token_restarts_the_list_once_from_the_first_page(in_cluster):
    in_cluster.expire = 1

    assert run("--from-cluster", "--cluster", "prod")["containers"] == 3
    assert RunningImage.objects.count() == 3
    tokens = [bool(args.get("continue")) for args, _ in in_cluster.seen]
    assert tokens == [False, True, False, True, True]  # page 2 answered 410: from the top


def test_a_continue_token_expiring_twice_is_named_and_records_nothing(in_cluster):
    in_cluster.expire = 2

    message = refused("--from-cluster")

    assert "410 Gone" in message and "expired twice" in message
    assert len(in_cluster.seen) == 4
    assert not RunningImage.objects.exists()


def test_a_forbidden_list_names_the_missing_permission_and_records_nothing(api_url):
    api, url = api_url
    api.forbid = True

    message = refused("--from-cluster", "--api-url", url)

    assert "403 Forbidden" in message and "lacks list pods" in message
    assert "cannot list resource" in message  # the API server's own Status message, quoted
    assert TOKEN not in message
    assert api.seen[0][1] == f"Bearer {TOKEN}"
    assert not RunningImage.objects.exists()


def test_a_token_the_api_server_does_not_accept_is_named(api_url, monkeypatch):
    api, url = api_url
    monkeypatch.setenv("KUBERNETES_TOKEN", "someone-elses-token")

    message = refused("--from-cluster", "--api-url", url)

    assert "401 Unauthorized" in message and "KUBERNETES_TOKEN" in message
    assert "someone-elses-token" not in message
    assert api.seen[0][1] == "Bearer someone-elses-token"
    assert not RunningImage.objects.exists()


def test_an_api_server_that_never_answers_ends_at_the_deadline_and_records_nothing(
    settings, monkeypatch
):
    settings.KUBERNETES_LIST_DEADLINE = 1.0
    monkeypatch.setenv("KUBERNETES_TOKEN", TOKEN)
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        message = refused("--from-cluster", "--api-url", url)

    assert "did not answer" in message and "ReadTimeoutError" in message
    assert not RunningImage.objects.exists()


def test_the_api_server_is_verified_with_the_service_accounts_ca(
    in_cluster, service_account, cluster_ca
):
    shutil.copy(cluster_ca[2], service_account / "ca.crt")  # a CA that did not sign the server

    message = refused("--from-cluster")

    assert "SSLError" in message or "SSLCertVerificationError" in message
    assert str(service_account / "ca.crt") in message
    assert not in_cluster.seen and not RunningImage.objects.exists()


def test_paging_stops_once_there_are_more_pods_than_inventory_max_pods(in_cluster, settings):
    settings.INVENTORY_MAX_PODS = 1

    message = refused("--from-cluster")

    assert "more than INVENTORY_MAX_PODS (1)" in message
    assert len(in_cluster.seen) == 2  # the third page is never asked for
    assert not RunningImage.objects.exists()


def test_outside_a_pod_without_api_url_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    message = refused("--from-cluster")

    assert "KUBERNETES_SERVICE_HOST" in message and "--api-url" in message


def test_api_url_without_a_token_names_the_variable(monkeypatch, httpserver):
    monkeypatch.delenv("KUBERNETES_TOKEN", raising=False)
    monkeypatch.delenv("KUBERNETES_TOKEN_FILE", raising=False)

    assert "KUBERNETES_TOKEN" in refused("--from-cluster", "--api-url", httpserver.url_for("/"))


@pytest.mark.parametrize(
    "args", [(), ("pods.json", "--from-cluster"), ("pods.json", "--api-url", "https://k8s")]
)
def test_a_file_and_the_cluster_are_one_or_the_other(args):
    assert refused(*args)
