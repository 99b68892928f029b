"""``manage.py demo``: living data through the real ingestion; refuses to clobber."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from findings.models import Delivery, Finding, RunningImage
from remediator.engine.models import RemediationAction


@pytest.mark.django_db
def test_demo_fills_the_database_and_refuses_to_run_twice_without_reset():
    out = io.StringIO()
    call_command("demo", images=3, stdout=out)
    assert "Demo ready" in out.getvalue()
    assert Finding.objects.filter(status="fixed").exists()
    assert Delivery.objects.filter(status="rejected").count() == 4
    assert RemediationAction.objects.exists()
    assert RunningImage.objects.filter(cluster="prod-eu").exists()
    users = get_user_model().objects.filter(username__in=["alice", "bob", "victor"])
    assert {u.username for u in users} == {"alice", "bob", "victor"}
    assert users.get(username="victor").has_perm("findings.view_finding")
    assert not users.get(username="victor").has_perm("remediator.approve_action")
    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", images=3, stdout=io.StringIO())
    call_command("demo", images=2, reset=True, stdout=io.StringIO())
    assert Delivery.objects.filter(status="rejected").count() == 4
