from __future__ import annotations

import pytest

from findings.parsers.base import ImageRef, ParseError
from findings.parsers.normalize import normalize_digest, parse_image_reference

ALPINE_DIGEST = "sha256:1e42bbe2508154c9126d48c2b8a75420c3544343bf86fd041fb7527e017a4b4a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine", ImageRef("docker.io", "library/alpine")),
        ("alpine:3.19", ImageRef("docker.io", "library/alpine", "3.19")),
        ("library/photon:3.0-20200202", ImageRef("docker.io", "library/photon", "3.0-20200202")),
        (
            "myexamplerepoeuwinfra.azurecr.io/mycontainer:1.0.15",
            ImageRef("myexamplerepoeuwinfra.azurecr.io", "mycontainer", "1.0.15"),
        ),
        (f"alpine@{ALPINE_DIGEST}", ImageRef("docker.io", "library/alpine", "", ALPINE_DIGEST)),
        (
            f"alpine:latest@{ALPINE_DIGEST}",
            ImageRef("docker.io", "library/alpine", "latest", ALPINE_DIGEST),
        ),
        (
            "core.harbor.domain/library/photon:3.0-20200202",
            ImageRef("core.harbor.domain", "library/photon", "3.0-20200202"),
        ),
        ("localhost:5000/foo:1", ImageRef("localhost:5000", "foo", "1")),
        ("localhost/foo", ImageRef("localhost", "foo")),
        ("index.docker.io/nginx", ImageRef("docker.io", "library/nginx")),
        ("registry-1.docker.io/bitnami/redis:7", ImageRef("docker.io", "bitnami/redis", "7")),
        ("docker.io/alpine", ImageRef("docker.io", "library/alpine")),
        ("aquasec/trivy:0.56.2", ImageRef("docker.io", "aquasec/trivy", "0.56.2")),
        ("ghcr.io/a/b/c:v1", ImageRef("ghcr.io", "a/b/c", "v1")),
        ("MyOrg/App:Tag1", ImageRef("docker.io", "myorg/app", "Tag1")),
        ("Registry.Example.COM:443/team/app", ImageRef("registry.example.com", "team/app")),
        ("Registry.Example.COM:5000/team/app", ImageRef("registry.example.com:5000", "team/app")),
    ],
)
def test_image_reference_follows_docker_rules(text: str, expected: ImageRef) -> None:
    assert parse_image_reference(text) == expected


def test_first_component_without_dot_colon_or_localhost_is_not_a_registry() -> None:
    ref = parse_image_reference("myregistry/app:1")
    assert (ref.registry, ref.repository) == ("docker.io", "myregistry/app")


def test_separate_digest_is_used_when_the_text_has_none() -> None:
    ref = parse_image_reference("your_image:latest", "45bc57e4" + "0" * 56)
    assert ref.digest == "sha256:45bc57e4" + "0" * 56
    assert str(ref) == f"docker.io/library/your_image:latest@{ref.digest}"


def test_digest_in_the_text_wins_over_the_separate_digest() -> None:
    ref = parse_image_reference(f"alpine@{ALPINE_DIGEST}", "sha256:" + "a" * 64)
    assert ref.digest == ALPINE_DIGEST


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        42,
        "alpine:",
        "alpine@sha256:xyz",
        "has space:1",
        "https://ghcr.io/a",
        "a//b",
        "/abs/path",
        "foo/-bar",
        "alpine:bad tag",
        "alpine:" + "x" * 129,
        "registry.example.com/" + "a" * 235,  # Docker's 255-character name limit
    ],
)
def test_invalid_image_reference_raises_parse_error(text: object) -> None:
    with pytest.raises(ParseError):
        parse_image_reference(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ""),
        (None, ""),
        (
            "45bc57e4e876533bc61ba7bf229f0f9f96d137b787614c3d0d5c70c3578fe867",
            "sha256:45bc57e4e876533bc61ba7bf229f0f9f96d137b787614c3d0d5c70c3578fe867",
        ),
        (
            "SHA256:45BC57E4E876533BC61BA7BF229F0F9F96D137B787614C3D0D5C70C3578FE867",
            "sha256:45bc57e4e876533bc61ba7bf229f0f9f96d137b787614c3d0d5c70c3578fe867",
        ),
        ("sha512:" + "ab" * 64, "sha512:" + "ab" * 64),
        ("blake3:" + "c" * 64, "blake3:" + "c" * 64),
        ("sha256:tooshort", ""),
        ("blake3:" + "c" * 200, ""),  # longer than any registered algorithm's
        ("REDACTED", ""),
        (12, ""),
    ],
)
def test_digest_is_normalised(value: object, expected: str) -> None:
    assert normalize_digest(value) == expected


def test_name_of_exactly_255_characters_is_accepted() -> None:
    ref = parse_image_reference("registry.example.com/" + "a" * 234 + ":1")
    assert len(ref.name) == 255 and ref.tag == "1"
