"""Class 6: image identity. A reference is normalised as container runtimes parse it, at
ingest and at admission alike; a digest is judged by what is known of it wherever it was
scanned; a tag is judged by the digest its registry serves now (a real registry here);
when the registry cannot be asked, ADMISSION_UNVERIFIED_TAGS decides; a policy may
require digests; stored repositories under old spellings are merged."""

from __future__ import annotations

import importlib
import json
import socket
import time
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from findings.models import Finding, FindingWitness, Repository, Scan, ScannerStream, Tag
from findings.parsers.base import ParseError
from findings.parsers.images import parse_image_reference
from findings.selectors.seen import scan_finding_ids
from remediator.engine.admission.tags import tag_lookups_clear
from remediator.engine.models import AdmissionPolicy, AuditEvent
from remediator.integrations.checks import registry_files_check
from remediator.integrations.registry.auth import TOKENS
from remediator.integrations.registry.credentials import auth_key, credentials_for
from tests.trust._identity_support import (
    OCI_MANIFEST,
    Registry,
    admission_ready,
    judged,
    scan,
    sha256,
)

FIXTURES = Path(__file__).parent.parent / "fixtures"
PROBES = [
    line.split("\t")
    for line in (FIXTURES / "bad" / "image_references.tsv").read_text().splitlines()
    if line and not line.startswith("#")
]
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
SHOP = "registry.example.com/shop/api"


@pytest.fixture(autouse=True)
def admission(settings, monkeypatch, db):
    admission_ready(settings, monkeypatch)
    TOKENS.clear()
    return settings


@pytest.fixture
def block_critical(db) -> AdmissionPolicy:
    return AdmissionPolicy.objects.create(name="block-critical", min_severity="critical")


# --- Normalisation: the same rules at ingest and at admission --------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("registry.example.com:443/shop/api:1", f"{SHOP}:1"),
        ("REGISTRY.example.com:443/shop/api", SHOP),
        ("registry.example.com:80/shop/api", "registry.example.com:80/shop/api"),
        ("localhost:443/shop/api", "localhost:443/shop/api"),
        ("[::1]:443/shop/api", "[::1]:443/shop/api"),
        ("[2001:db8:0::1]:443/shop/api", "[2001:db8::1]/shop/api"),
        ("registry.hub.docker.com/library/nginx", "docker.io/library/nginx"),
        ("registry-1.docker.io/nginx", "docker.io/library/nginx"),
        ("index.docker.io/nginx:1", "docker.io/library/nginx:1"),
        ("docker.io:443/bitnami/redis", "docker.io/bitnami/redis"),
        ("mirror.example.com/library/nginx", "mirror.example.com/library/nginx"),
        ("mirror.example.com/nginx", "mirror.example.com/nginx"),
    ],
)
def test_references_normalise_as_container_runtimes_do(text, expected):
    assert str(parse_image_reference(text)) == expected
    assert str(parse_image_reference(text, strict=True)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Shop/API:1",
        "registry.example.com/Shop/api:1",
        f"{SHOP}@sha256:{'A' * 64}",
        f"{SHOP}@blake3:{'a' * 64}",
        f" {SHOP}:1",
        "a" * 64,
    ],
)
def test_a_pod_image_a_runtime_would_refuse_is_refused_at_admission(text):
    with pytest.raises(ParseError):
        parse_image_reference(text, strict=True)
    parse_image_reference(text)  # a report naming it is still read (lowercased, trimmed)


def test_image_scanned_without_port_is_found_with_the_https_port(client, block_critical):
    scan(SHOP, "1", D1, "CVE-2024-6119")

    answer, images = judged(client, "registry.example.com:443/shop/api:1")

    assert answer["allowed"] is False
    assert "CVE-2024-6119" in answer["status"]["message"]
    assert images[0]["digest"] == D1


def test_report_with_the_https_port_joins_the_repository_scanned_without_it(client):
    scan(SHOP, "1", D1)
    scan("Registry.Example.com:443/shop/api", "1", D2, "CVE-2024-6119")

    assert list(Repository.objects.values_list("registry", "name")) == [
        ("registry.example.com", "shop/api")
    ]
    assert Tag.objects.get().image.digest == D2


def test_docker_hub_aliases_are_one_repository(client, block_critical):
    scan("registry.hub.docker.com/library/nginx", "1.25", D1, "CVE-2023-44487")

    for image in ("nginx:1.25", "docker.io/library/nginx:1.25", "index.docker.io/nginx:1.25"):
        answer, images = judged(client, image)
        assert answer["allowed"] is False, image
        assert images[0]["digest"] == D1


# --- A digest is judged wherever it was scanned --------------------------------------


def test_known_vulnerable_digest_through_a_mirror_is_denied_naming_where_it_was_scanned(
    client, block_critical
):
    scan("docker.io/library/nginx", "1.25", D1, "CVE-2023-44487")

    answer, images = judged(client, f"mirror.example.com/library/nginx@{D1}")

    assert answer["allowed"] is False
    message = answer["status"]["message"]
    assert "CVE-2023-44487" in message
    assert "scanned as docker.io/library/nginx" in message
    assert images[0]["scanned_as"] == ["docker.io/library/nginx"]


def test_known_vulnerable_digest_under_another_repository_name_is_denied(client, block_critical):
    scan(SHOP, "1", D1, "CVE-2024-6119")

    answer, images = judged(client, f"registry.example.com/copies/api:v1@{D1}")

    assert answer["allowed"] is False
    assert images[0]["scanned_as"] == [SHOP]


def test_policy_scoped_to_the_scanned_repository_covers_its_mirror(client):
    AdmissionPolicy.objects.create(
        name="hub-critical", min_severity="critical", image_glob="docker.io/library/*"
    )
    scan("docker.io/library/nginx", "1.25", D1, "CVE-2023-44487")

    answer, _ = judged(client, f"mirror.example.com/library/nginx@{D1}")

    assert answer["allowed"] is False
    assert "hub-critical" in answer["status"]["message"]


def test_digest_is_judged_by_each_scanners_newest_scan_across_repositories(client, block_critical):
    scan("mirror.example.com/library/nginx", "1.25", D1, "CVE-2023-44487", scanner="trivy")
    scan("docker.io/library/nginx", "1.25", D1, scanner="trivy")  # newer, clean

    answer, images = judged(client, f"docker.io/library/nginx@{D1}")

    assert answer["allowed"] is True and images[0]["verdict"] == "allow"


def test_never_scanned_digest_is_unknown(client, block_critical):
    scan(SHOP, "1", D1, "CVE-2024-6119")

    answer, images = judged(client, f"{SHOP}@{D2}")

    assert answer["allowed"] is False
    assert "this digest was never scanned" in answer["status"]["message"]
    assert images[0]["verdict"] == "unknown:deny"


# --- A tag is judged by what its registry serves now (a real registry) ---------------


@pytest.fixture
def registry(tmp_path):
    server = Registry(tmp_path / "registry").start()
    yield server
    server.stop()


@pytest.fixture
def resolving(settings):
    settings.ADMISSION_RESOLVE_TAGS = True
    settings.ADMISSION_REGISTRY_TIMEOUT = 3.0
    tag_lookups_clear()
    return settings


def test_unscanned_image_pushed_over_a_clean_tag_is_denied_under_deny(
    client, registry, resolving, block_critical
):
    name = f"{registry.host}/shop/api"
    clean = registry.push("shop/api", "1", b"clean layer")
    scan(name, "1", clean)
    answer, images = judged(client, f"{name}:1")
    assert answer["allowed"] is True and images[0]["digest"] == clean

    pushed = registry.push("shop/api", "1", b"unscanned vulnerable layer")
    tag_lookups_clear()  # what ADMISSION_REGISTRY_CACHE_SECONDS would do a little later
    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False
    message = answer["status"]["message"]
    assert f"tag 1 now points at {pushed[:19]}" in message
    assert f"last scanned at {clean[:19]}" in message
    assert images[0]["verdict"] == "unknown:deny"


def test_tag_moved_to_a_digest_scanned_elsewhere_is_judged_by_that_scan(
    client, registry, resolving, block_critical
):
    name = f"{registry.host}/shop/api"
    clean = registry.push("shop/api", "1", b"clean layer")
    scan(name, "1", clean)
    vulnerable = registry.push("shop/api", "1", b"vulnerable layer")
    scan(f"{registry.host}/shop/api-candidates", "build-7", vulnerable, "CVE-2024-6119")

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False
    assert "CVE-2024-6119" in answer["status"]["message"]
    assert images[0]["digest"] == vulnerable
    assert images[0]["scanned_as"] == [f"{registry.host}/shop/api-candidates"]


def test_registry_calls_are_audited(client, registry, resolving, block_critical):
    name = f"{registry.host}/shop/api"
    scan(name, "1", registry.push("shop/api", "1", b"layer"))

    judged(client, f"{name}:1")

    calls = AuditEvent.objects.filter(kind="provider_call", actor_label="provider:registry")
    assert [c.data["method"] for c in calls] == ["HEAD"]
    assert calls[0].data["url"] == f"{registry.url}/v2/shop/api/manifests/1"
    assert calls[0].data["status"] == 200


@pytest.fixture
def private_registry(tmp_path):
    server = Registry(tmp_path / "private", user="puller", password="s3cret-pull").start()
    yield server
    server.stop()


def auth_file(tmp_path, key: str, user: str, password: str) -> str:
    import base64

    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"auths": {key: {"auth": token}}}))
    return str(path)


def test_basic_auth_registry_is_asked_with_the_credentials_of_the_auth_file(
    client, tmp_path, private_registry, resolving, block_critical
):
    name = f"{private_registry.host}/shop/api"
    clean = private_registry.push("shop/api", "1", b"clean layer")
    scan(name, "1", clean, "CVE-2024-6119")
    pushed = private_registry.push("shop/api", "1", b"unscanned")
    resolving.REGISTRY_AUTH_FILE = auth_file(
        tmp_path, f"http://{private_registry.host}", "puller", "s3cret-pull"
    )

    answer, images = judged(client, f"{name}:1")

    assert images[0]["verdict"] == "unknown:deny"

    assert answer["allowed"] is False
    assert f"now points at {pushed[:19]}" in answer["status"]["message"]
    assert "s3cret" not in json.dumps(answer)


def test_registry_without_credentials_leaves_the_tag_unverified(
    client, private_registry, resolving, block_critical
):
    name = f"{private_registry.host}/shop/api"
    clean = private_registry.push("shop/api", "1", b"clean layer")
    scan(name, "1", clean)

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False
    message = answer["status"]["message"]
    assert "asks for credentials and REGISTRY_AUTH_FILE has none for it" in message
    assert "answered as an unknown image" in message
    assert images[0]["unverified"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_registry_answers_as_unknown_by_default(client, resolving, block_critical):
    name = f"127.0.0.1:{closed_port()}/shop/api"
    scan(name, "1", D1)

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False
    message = answer["status"]["message"]
    assert "its registry could not say which digest the tag names now" in message
    assert "connection refused or host unknown" in message
    assert images[0]["digest"] == D1


def test_unreachable_registry_only_warns_when_unknown_images_are_warned(
    client, resolving, block_critical, settings
):
    settings.ADMISSION_UNKNOWN_IMAGES = "warn"
    name = f"127.0.0.1:{closed_port()}/shop/api"
    scan(name, "1", D1)

    answer, _ = judged(client, f"{name}:1")

    assert answer["allowed"] is True
    assert any("could not say which digest" in w for w in answer["warnings"])


def test_last_scanned_fallback_admits_with_a_warning_naming_the_unverified_tag(
    client, resolving, block_critical, settings
):
    settings.ADMISSION_UNVERIFIED_TAGS = "last_scanned"
    name = f"127.0.0.1:{closed_port()}/shop/api"
    scan(name, "1", D1)

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is True
    assert any(f"last scanned, {D1[:19]}" in w for w in answer["warnings"])
    assert images[0]["verdict"] == "warn"


def test_unreachable_registry_still_denies_a_tag_whose_last_scan_is_vulnerable(
    client, resolving, block_critical, settings
):
    settings.ADMISSION_UNVERIFIED_TAGS = "last_scanned"
    name = f"127.0.0.1:{closed_port()}/shop/api"
    scan(name, "1", D1, "CVE-2024-6119")

    answer, _ = judged(client, f"{name}:1")

    assert answer["allowed"] is False
    assert "CVE-2024-6119" in answer["status"]["message"]


def test_registry_that_never_answers_costs_one_deadline_far_below_the_webhook_timeout(
    client, resolving, block_critical, settings
):
    settings.ADMISSION_REGISTRY_TIMEOUT = 1.0
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        name = f"127.0.0.1:{listener.getsockname()[1]}/shop/api"
        scan(name, "1", D1)
        started = time.monotonic()
        answer, _ = judged(client, *(f"{name}:{tag}" for tag in ("1", "2", "3")))
        first = time.monotonic() - started
        started = time.monotonic()
        judged(client, f"{name}:1")
        again = time.monotonic() - started

    assert answer["allowed"] is False  # unverified (tag 1) and never scanned (2, 3)
    assert (
        "did not answer" in answer["status"]["message"]
        or "no answer in time" in (answer["status"]["message"])
    )
    assert first < 4.0  # the webhook's timeout is 5 s; the deadline is 1 s
    assert again < 4.0


# --- The token flow, against a fake that follows the distribution token spec ---------


def test_bearer_challenge_is_answered_with_a_token_from_the_realm(
    client, httpserver, resolving, block_critical, tmp_path
):
    host = f"127.0.0.1:{httpserver.port}"
    realm = httpserver.url_for("/token")
    challenge = f'Bearer realm="{realm}",service="fake-registry",scope="repository:shop/api:pull"'
    httpserver.expect_request(
        "/v2/shop/api/manifests/1", method="HEAD", headers={"Authorization": "Bearer tok-1"}
    ).respond_with_data("", headers={"Docker-Content-Digest": D2})
    httpserver.expect_request("/v2/shop/api/manifests/1", method="HEAD").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": challenge}
    )
    httpserver.expect_request(
        "/token", query_string={"service": "fake-registry", "scope": "repository:shop/api:pull"}
    ).respond_with_json({"token": "tok-1", "expires_in": 300})
    resolving.REGISTRY_AUTH_FILE = auth_file(tmp_path, host, "robot", "robot-secret")
    scan(f"{host}/shop/api", "1", D1)
    scan("registry.example.com/other", "x", D2, "CVE-2024-6119")

    answer, images = judged(client, f"{host}/shop/api:1")
    tag_lookups_clear()
    judged(client, f"{host}/shop/api:1")  # the token is kept until it expires

    assert answer["allowed"] is False and images[0]["digest"] == D2
    token_calls = [r for r, _ in httpserver.log if r.path == "/token"]
    assert len(token_calls) == 1
    assert token_calls[0].authorization.username == "robot"
    assert token_calls[0].authorization.password == "robot-secret"
    heads = [r for r, _ in httpserver.log if r.method == "HEAD"]
    assert [r.headers.get("Authorization") for r in heads] == [None, "Bearer tok-1", "Bearer tok-1"]
    assert "application/vnd.oci.image.index.v1+json" in heads[0].headers["Accept"]
    assert "application/vnd.docker.distribution.manifest.v2+json" in heads[0].headers["Accept"]


# --- require_digest -------------------------------------------------------------------


def test_policy_requiring_digests_denies_a_tag_showing_the_digest_form(client):
    AdmissionPolicy.objects.create(name="pin-prod", require_digest=True, namespace_glob="prod*")
    scan(SHOP, "1", D1)

    answer, images = judged(client, f"{SHOP}:1", namespace="prod-eu")

    assert answer["allowed"] is False
    assert f"pin-prod requires a digest: {SHOP}@{D1}" in answer["status"]["message"]
    assert images[0]["digest_required_by"] == ["pin-prod"]
    assert judged(client, f"{SHOP}@{D1}", namespace="prod-eu")[0]["allowed"] is True
    assert judged(client, f"{SHOP}:1", namespace="dev")[0]["allowed"] is True


def test_policy_requiring_digests_in_warn_mode_admits_with_a_warning(client):
    AdmissionPolicy.objects.create(name="pin-soon", require_digest=True, mode="warn")

    answer, _ = judged(client, "docker.io/library/redis:7")

    assert answer["allowed"] is False  # never scanned, and unknown images are denied here
    assert any("pin-soon requires a digest" in w for w in answer["warnings"])


def test_policy_requiring_digests_judges_the_reference_not_findings(client):
    AdmissionPolicy.objects.create(name="pin-all", require_digest=True)
    scan(SHOP, "1", D1, "CVE-2024-6119")

    answer, _ = judged(client, f"{SHOP}@{D1}")

    assert answer["allowed"] is True


def test_require_digest_is_a_config_as_code_key(tmp_path):
    path = tmp_path / "remediator.yaml"
    path.write_text("admission_policies:\n  - name: pin\n    require_digest: true\n")

    call_command("apply_config", str(path))

    assert AdmissionPolicy.objects.get(name="pin").require_digest is True


def test_require_digest_is_shown_and_edited_in_the_admin(admin_client):
    AdmissionPolicy.objects.create(name="pin", require_digest=True)

    page = admin_client.get("/admin/remediator/admissionpolicy/")
    form = admin_client.get(
        f"/admin/remediator/admissionpolicy/{AdmissionPolicy.objects.get().pk}/change/"
    )

    assert page.status_code == 200 and b"column-require_digest" in page.content
    assert b'name="require_digest"' in form.content


# --- Stored repositories under old spellings are merged --------------------------------


def _merge():
    migration = importlib.import_module(
        "remediator.engine.migrations.0010_merge_repositories_by_normalised_name"
    )
    migration.merge_repositories(apps, connection.schema_editor())


def test_migration_merges_repositories_stored_with_the_https_port(client, block_critical):
    scan(SHOP, "1", D1, "CVE-2024-6119", scanner="trivy")
    old = "registry.example.com:5443/shop/api"
    scan(old, "1", D2, "CVE-2024-6119", "CVE-2023-1", scanner="aqua")
    scan(old, "2", "sha256:" + "3" * 64, scanner="aqua")
    Repository.objects.filter(registry="registry.example.com:5443").update(
        registry="registry.example.com:443"
    )  # as stored before the https port was dropped

    _merge()

    repository = Repository.objects.get()
    assert str(repository) == SHOP
    tags = {t.name: t for t in Tag.objects.filter(repository=repository)}
    assert set(tags) == {"1", "2"}
    assert tags["1"].image.digest == D2  # the newer scan's
    findings = Finding.objects.filter(tag=tags["1"])
    assert sorted(findings.values_list("vulnerability_id", flat=True)) == [
        "CVE-2023-1",
        "CVE-2024-6119",
    ]
    merged = findings.get(vulnerability_id="CVE-2024-6119")
    assert sorted(merged.witnesses.values_list("scanner_key", flat=True)) == [
        "generic:aqua",
        "generic:trivy",
    ]
    for scan_row in Scan.objects.filter(tag=tags["1"]):
        assert set(scan_finding_ids(scan_row.pk)) <= set(findings.values_list("pk", flat=True))
    assert ScannerStream.objects.filter(tag=tags["1"]).count() == 2
    assert FindingWitness.objects.filter(finding__tag__repository=repository).count() == 3
    answer, images = judged(client, "registry.example.com:443/shop/api:1")
    assert answer["allowed"] is False and images[0]["digest"] == D2


def test_migration_renames_a_repository_whose_normalised_name_is_free():
    scan("registry.example.com:5443/shop/api", "1", D1)
    Repository.objects.update(registry="registry.hub.docker.com", name="nginx")

    _merge()

    assert [str(r) for r in Repository.objects.all()] == ["docker.io/library/nginx"]


# --- The probes corpus, through the parser and an admission review ---------------------


@pytest.mark.parametrize(
    ("name", "text", "reported", "admitted", "what"), PROBES, ids=[p[0] for p in PROBES]
)
def test_odd_reference_is_normalised_or_refused_by_the_parser(name, text, reported, admitted, what):
    reference = json.loads(text)
    if reported == "refused":
        with pytest.raises(ParseError):
            parse_image_reference(reference)
    else:
        assert str(parse_image_reference(reference)) == reported


@pytest.mark.parametrize(
    ("name", "text", "reported", "admitted", "what"), PROBES, ids=[p[0] for p in PROBES]
)
def test_odd_reference_in_a_review_is_judged_as_its_normalised_form_or_unknown(
    client, block_critical, name, text, reported, admitted, what
):
    reference = json.loads(text)
    if admitted != "refused":
        expected = parse_image_reference(admitted)
        digest = expected.digest or sha256(name.encode())
        scan(expected.name, expected.tag or "latest", digest, "CVE-2024-6119")

    answer, images = judged(client, reference)

    assert answer["allowed"] is False
    if admitted == "refused":
        assert images[0]["verdict"] == "unknown:deny"
        assert "not a valid image reference" in answer["status"]["message"]
    else:
        assert images[0]["verdict"] == "deny" and images[0]["digest"] == digest


# --- Registry credentials: a Docker config.json ----------------------------------------


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("https://Registry.Example.com:443", "registry.example.com"),
        ("registry.example.com:5000", "registry.example.com:5000"),
        ("registry.example.com/Shop/", "registry.example.com/shop"),
        ("http://localhost:5000/v2/", "localhost:5000"),
        ("not a host", ""),
    ],
)
def test_auth_file_keys_are_normalised_as_references(key, expected):
    assert auth_key(key) == expected


def test_longest_matching_auth_file_key_gives_the_credentials(settings, tmp_path):
    import base64

    def entry(user: str) -> dict:
        return {"auth": base64.b64encode(f"{user}:pw-{user}".encode()).decode()}

    path = tmp_path / "config.json"
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": entry("hub"),
                    "registry.example.com": entry("any"),
                    "registry.example.com/shop": entry("shop"),
                    "quay.io": {"username": "robot", "password": "pw-robot"},
                    "ghcr.io": {"identitytoken": "not read"},
                }
            }
        )
    )
    settings.REGISTRY_AUTH_FILE = str(path)

    assert credentials_for("docker.io", "library/nginx").username == "hub"
    assert credentials_for("registry.example.com", "shop/api").username == "shop"
    assert credentials_for("registry.example.com", "shopping/api").username == "any"
    assert credentials_for("quay.io", "org/app").password == "pw-robot"
    assert credentials_for("ghcr.io", "org/app") is None
    assert "pw-" not in repr(credentials_for("quay.io", "org/app"))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not JSON"),
        ('{"credsStore": "desktop"}', 'has no "auths" object'),
        ('["auths"]', 'has no "auths" object'),
    ],
)
def test_unusable_auth_file_fails_the_system_check_without_showing_it(
    settings, tmp_path, content, problem
):
    path = tmp_path / "config.json"
    path.write_text(content)
    settings.REGISTRY_AUTH_FILE = str(path)

    errors = registry_files_check()

    assert [e.id for e in errors] == ["remediator.E061"]
    assert problem in errors[0].msg and content not in errors[0].msg


def test_tag_lookup_with_an_unusable_auth_file_is_unverified_not_an_error(
    client, resolving, settings, tmp_path, block_critical
):
    path = tmp_path / "config.json"
    path.write_text("{broken")
    settings.REGISTRY_AUTH_FILE = str(path)
    name = f"127.0.0.1:{closed_port()}/shop/api"
    scan(name, "1", D1)

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False
    assert "REGISTRY_AUTH_FILE is not JSON" in images[0]["unverified"]


# --- What a registry answers is data: odd answers leave the tag unverified -------------

BAD_ANSWERS = {
    "digest_header_not_a_digest": ({"Docker-Content-Digest": "sha256:xyz"}, 200, "no valid digest"),
    "digest_header_uppercase": ({"Docker-Content-Digest": D2.upper()}, 200, "no valid digest"),
    "digest_header_with_trailing_text": (
        {"Docker-Content-Digest": f"{D2} X-Injected: 1"},
        200,
        "no valid digest",
    ),
    "server_error": ({}, 500, "answered 500"),
    "redirect_elsewhere": ({"Location": "http://evil.example.com/v2/"}, 302, "answered 302"),
    "too_many_requests": ({"Retry-After": "3600"}, 429, "answered 429"),
    "forbidden": ({}, 403, "refused the credentials (403)"),
    "no_such_tag": ({}, 404, "has no such tag"),
    "challenge_without_realm": ({"WWW-Authenticate": "Bearer service=x"}, 401, "asks for"),
    "challenge_unknown_scheme": ({"WWW-Authenticate": "Negotiate abc"}, 401, "asks for"),
    "challenge_realm_plain_http_elsewhere": (
        {"WWW-Authenticate": 'Bearer realm="http://auth.example.com/token"'},
        401,
        "must use https",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_odd_registry_answer_leaves_the_tag_unverified_and_is_never_an_error(
    client, httpserver, resolving, block_critical, case
):
    headers, status, reason = BAD_ANSWERS[case]
    httpserver.expect_request("/v2/shop/api/manifests/1").respond_with_data(
        "", status=status, headers=headers
    )
    name = f"127.0.0.1:{httpserver.port}/shop/api"
    scan(name, "1", D1)

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False  # unverified, answered as unknown under deny
    assert reason in images[0]["unverified"], images[0]["unverified"]
    assert images[0]["digest"] == D1


@pytest.mark.parametrize(
    ("case", "token_answer"),
    [
        ("token_not_json", "<html>login</html>"),
        ("token_missing", '{"expires_in": 300}'),
        ("token_not_a_string", '{"token": 42}'),
    ],
)
def test_odd_token_service_answer_leaves_the_tag_unverified(
    client, httpserver, resolving, block_critical, case, token_answer
):
    realm = httpserver.url_for("/token")
    httpserver.expect_request("/v2/shop/api/manifests/1").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="x"'}
    )
    httpserver.expect_request("/token").respond_with_data(
        token_answer, content_type="application/json"
    )
    name = f"127.0.0.1:{httpserver.port}/shop/api"
    scan(name, "1", D1)

    _, images = judged(client, f"{name}:1")

    assert "without a token" in images[0]["unverified"]


def test_registry_answer_without_a_digest_header_is_hashed_from_the_manifest(
    client, httpserver, resolving, block_critical
):
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST}).encode()
    httpserver.expect_request("/v2/shop/api/manifests/1", method="HEAD").respond_with_data("")
    httpserver.expect_request("/v2/shop/api/manifests/1", method="GET").respond_with_data(
        manifest, content_type=OCI_MANIFEST
    )
    name = f"127.0.0.1:{httpserver.port}/shop/api"
    scan(name, "1", D1)
    scan("registry.example.com/elsewhere", "x", sha256(manifest), "CVE-2024-6119")

    answer, images = judged(client, f"{name}:1")

    assert answer["allowed"] is False and images[0]["digest"] == sha256(manifest)
