"""Set-at-a-time writes (findings.bulk): what they insert, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from findings.bulk import rows_insert
from findings.models import Vulnerability

pytestmark = pytest.mark.django_db


def test_an_insert_that_skips_existing_keys_leaves_a_taken_key_and_inserts_the_rest():
    Vulnerability.objects.create(id="CVE-2026-2", title="stored")

    with transaction.atomic():
        rows_insert(
            Vulnerability._meta.db_table,
            ("id", "title"),
            [("CVE-2026-1", "new"), ("CVE-2026-2", "again"), ("CVE-2026-3", "new")],
            same={
                "description": "",
                "severity": "unknown",
                "cvss_vector": "",
                "links": "[]",
                "updated_at": timezone.now(),
            },
            skip_existing=True,
        )
        written = dict(Vulnerability.objects.values_list("id", "title"))

    assert written == {"CVE-2026-1": "new", "CVE-2026-2": "stored", "CVE-2026-3": "new"}
