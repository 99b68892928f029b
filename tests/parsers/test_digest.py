"""The findings digest (``findings.parsers.digest``) is computed piece by piece, and is
the digest of the list encoded whole: stored scans' digests keep matching the re-scans
that repeat them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec
import pytest

from findings.parsers import FINDINGS_KEYS, load_body, report_head
from findings.parsers.base import ParseError
from findings.parsers.digest import json_digest
from findings.parsers.typed import Doc

from .test_typed_decoding import ALL_JSON, FIXTURES, variants


def whole(value: object) -> str:
    return hashlib.blake2b(msgspec.json.encode(value), digest_size=16).hexdigest()


def documents(raw: bytes, slug: str):
    for typed_decoding in (True, False):
        try:
            yield load_body(slug, raw, typed_decoding=typed_decoding)
        except ParseError:
            return


@pytest.mark.parametrize("path", ALL_JSON, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_every_fixture_s_digest_is_that_of_its_encoding(path: Path) -> None:
    raw = path.read_bytes()
    for slug in FINDINGS_KEYS:
        for document in documents(raw, slug):
            assert json_digest(document) == whole(document)
            if isinstance(document, Doc | dict) and FINDINGS_KEYS[slug] in document:
                findings = document[FINDINGS_KEYS[slug]]
                assert json_digest(findings) == whole(findings)


@pytest.mark.parametrize("slug", ["trivy", "grype"])
def test_odd_values_anywhere_digest_as_encoded_whole(slug: str) -> None:
    heads = 0
    for name, raw in variants(slug):
        for document in documents(raw, slug):
            assert json_digest(document) == whole(document), name
            head = report_head(slug, document) if not isinstance(document, list) else None
            if head is not None:
                assert head.findings_digest == whole(document[FINDINGS_KEYS[slug]]), name
                heads += 1
    assert heads > 100


def test_mappings_msgspec_writes_its_own_way_and_odd_texts() -> None:
    value = [
        {"a": [1, 2.5, None, True], 'é\n"': {"b": [{"c": "\u2028"}]}},
        {1: "a yaml key", 2.5: "x"},
        [[[[["deep"]]]]],
        {},
        [],
    ]
    assert json_digest(value) == whole(value)
    raw = msgspec.json.decode(json.dumps(value[:1]).encode(), type=list[msgspec.Raw])
    assert json_digest(raw) == whole(raw)


def test_a_large_list_is_hashed_in_batches() -> None:
    value = [{"VulnerabilityID": f"CVE-2026-{i:05d}", "Title": "t" * 300} for i in range(8000)]
    assert len(msgspec.json.encode(value)) > 2 << 20  # more than two batches
    assert json_digest(value) == whole(value)
    raw = msgspec.json.decode(msgspec.json.encode(value), type=list[msgspec.Raw])
    assert json_digest(raw) == whole(value)
