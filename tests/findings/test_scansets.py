"""A scan's finding set as one compact value (findings.scansets): pure, no database."""

from __future__ import annotations

from findings.scansets import decode_ids, encode_ids


def test_a_set_comes_back_sorted_and_distinct():
    assert decode_ids(encode_ids([5, 3, 3, 2**40, 1])) == [1, 3, 5, 2**40]


def test_an_empty_set_and_a_missing_one_are_empty():
    assert decode_ids(encode_ids([])) == []
    assert decode_ids(None) == []


def test_twenty_thousand_consecutive_ids_take_about_a_kilobyte():
    assert len(encode_ids(range(1_000, 21_000))) < 2_000
