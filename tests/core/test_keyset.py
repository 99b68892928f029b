"""The one keyset helper: cursors of one shape for pages and the API, DRF's cursors still
read as DRF read them, previous links that walk back, and refusals of what it did not make."""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import unquote

import pytest
from rest_framework.test import APIClient

from findings.models import Delivery, Repository, Vulnerability
from remediator.core.keyset import (
    Cursor,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    key_fields,
    keyset_page,
)
from tests.dashboard.conftest import make_user
from tests.dashboard.factories import make_scan, make_tag
from tests.lists.conftest import api_ids

pytestmark = pytest.mark.django_db
NEWEST = ("-id",)


def _deliveries(n: int) -> list[int]:
    tag = make_tag("team/keyset")
    return sorted((make_scan(tag).delivery_id for _ in range(n)), reverse=True)


def _walk(queryset, keys, size, cursor=None):
    pages = []
    while True:
        page = keyset_page(queryset, keys=keys, size=size, cursor=cursor)
        pages.append([row.pk for row in page.rows])
        if page.next is None:
            return pages
        cursor = page.next


def test_pages_walk_every_row_once_and_previous_links_walk_back():
    ids = _deliveries(23)
    pages = _walk(Delivery.objects.all(), NEWEST, 5)
    assert [pk for page in pages for pk in page] == ids and len(pages) == 5
    page = keyset_page(Delivery.objects.all(), keys=NEWEST, size=5, cursor=None)
    for _ in range(4):
        page = keyset_page(Delivery.objects.all(), keys=NEWEST, size=5, cursor=page.next)
    back = []
    while page.previous is not None:
        page = keyset_page(Delivery.objects.all(), keys=NEWEST, size=5, cursor=page.previous)
        back.insert(0, [row.pk for row in page.rows])
    assert back == pages[:4]


def test_a_cursor_is_base64_of_a_position_per_key_and_reads_back():
    fields = key_fields(Repository.objects.all(), ("name", "id"))
    cursor = Cursor(("team/a b+c", 42), reverse=True)
    token = encode_cursor(cursor)
    assert token == b64encode(b"r=1&p=team%2Fa+b%2Bc&p=42").decode()
    assert decode_cursor(token, fields) == cursor


def test_a_cursor_drf_made_reads_as_drf_read_it():
    ids = _deliveries(12)
    fields = key_fields(Delivery.objects.all(), NEWEST)
    drf = decode_cursor(b64encode(f"o=2&p={ids[3]}".encode()).decode(), fields)
    page = keyset_page(Delivery.objects.all(), keys=NEWEST, size=3, cursor=drf)
    assert [row.pk for row in page.rows] == ids[6:9]  # after ids[3], two skipped
    huge = decode_cursor(b64encode(b"o=" + b"9" * 60 + b"&p=1").decode(), fields)
    assert huge.offset == 1000  # DRF's offset_cutoff


def test_a_one_key_cursor_on_two_keys_is_a_drf_cursor_of_the_first_key():
    for name in ("team/b", "team/a", "team/c"):
        make_tag(name)
    fields = key_fields(Repository.objects.all(), ("name", "id"))
    cursor = decode_cursor(b64encode(b"p=team%2Fa").decode(), fields)
    page = keyset_page(Repository.objects.all(), keys=("name", "id"), size=5, cursor=cursor)
    assert [r.name for r in page.rows] == ["team/b", "team/c"]


@pytest.mark.parametrize(
    "text",
    [
        "p=abc",  # text for an id
        "p=1e99",
        "p=" + "9" * 30,  # no 64-bit column holds it
        "p=1&p=2",  # more positions than keys
        "x=1",
        "r=2&p=1",
        "p",
    ],
)
def test_a_cursor_it_did_not_make_is_refused(text):
    with pytest.raises(InvalidCursor):
        decode_cursor(b64encode(text.encode()).decode(), key_fields(Delivery.objects.all(), NEWEST))


@pytest.mark.parametrize("token", ["", "~~", "%%%", "cD0x" * 300])
def test_what_is_not_base64_or_too_long_is_refused(token):
    with pytest.raises(InvalidCursor):
        decode_cursor(token, key_fields(Delivery.objects.all(), NEWEST))


def test_a_text_position_must_fit_its_column():
    fields = key_fields(Vulnerability.objects.all(), ("id",))
    for text in ("p=CVE%00", "p=" + "C" * 101):
        with pytest.raises(InvalidCursor):
            decode_cursor(b64encode(text.encode()).decode(), fields)


def test_a_pages_cursor_works_as_the_apis_and_the_apis_previous_walks_back(client):
    ids = _deliveries(60)
    client.force_login(make_user("victor", "Viewer"))
    page = client.get("/deliveries/").context["page"]
    token = page.next_url.split("after=")[1]
    api = APIClient()
    api.force_authenticate(make_user("reader", "Viewer"))
    body = api.get(f"/api/v1/deliveries/?cursor={token}").json()
    assert [d["id"] for d in body["results"]] == ids[50:]
    assert unquote(token) == encode_cursor(Cursor((ids[49],)))
    assert api_ids(api, "/api/v1/deliveries/", page_size=7) == ids
    last = api.get(f"/api/v1/deliveries/?page_size=7&cursor={encode_cursor(Cursor((ids[48],)))}")
    walked = []
    url = last.json()["previous"]
    while url:
        previous = api.get(url).json()
        walked = [d["id"] for d in previous["results"]] + walked
        url = previous["previous"]
    assert walked == ids[:49]
