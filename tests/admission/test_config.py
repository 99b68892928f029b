"""Admission policies as code: the `admission_policies` section of apply_config."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from remediator.engine.models import AdmissionPolicy, AuditEvent

pytestmark = pytest.mark.django_db

CONFIG = """
admission_policies:
  - name: block-kev
    kev: true
    min_severity: unknown
  - name: warn-epss
    mode: warn
    min_epss: 0.5
    namespace: "prod-*"
    image: "registry.example.com/*"
    fixable_for_days: 14
"""


def _apply(tmp_path, text: str, *args: str) -> str:
    path = tmp_path / "remediator.yaml"
    path.write_text(text)
    out = StringIO()
    call_command("apply_config", str(path), *args, stdout=out)
    return out.getvalue()


def test_admission_policies_are_created_then_unchanged_and_pruned(tmp_path):
    _apply(tmp_path, CONFIG)
    kev, epss = AdmissionPolicy.objects.order_by("order")
    assert (kev.name, kev.kev, kev.mode, kev.min_severity) == (
        "block-kev",
        True,
        "enforce",
        "unknown",
    )
    fix = (epss.fix_available, epss.fix_grace_days)  # fixable_for_days: 14, in today's words
    assert (epss.mode, epss.min_epss, epss.namespace_glob, fix) == (
        "warn",
        0.5,
        "prod-*",
        (True, 14),
    )
    assert AuditEvent.objects.filter(kind="config", object_type="admissionpolicy").count() == 2
    assert _apply(tmp_path, CONFIG).strip() == "created 0, updated 0, unchanged 2"
    _apply(tmp_path, CONFIG.split("  - name: warn-epss")[0], "--prune")
    assert list(AdmissionPolicy.objects.values_list("name", flat=True)) == ["block-kev"]


def test_bad_admission_policies_are_reported_with_their_line(tmp_path):
    text = "admission_policies:\n  - name: x\n    mode: block\n    min_epss: 3\n"
    with pytest.raises(CommandError) as caught:
        _apply(tmp_path, text)
    assert ":3: admission_policies[0].mode: unknown mode (enforce, warn)" in str(caught.value)
    assert "min_epss: must be a number from 0 to 1" in str(caught.value)
