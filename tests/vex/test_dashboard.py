"""The finding page's decisions (justification list, Investigate) and the image page's
downloads."""

from __future__ import annotations

import pytest
from django.test import Client

from findings.models import Finding

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_finding_page_offers_the_justifications_and_investigate(alpine, people):
    finding = alpine["libcrypto3"]
    page = signed_in(people["alice"]).get(f"/findings/{finding.pk}/").content.decode()

    assert "Not affected / false positive" in page
    assert '<select name="justification"' in page
    assert '<option value="vulnerable_code_cannot_be_controlled_by_adversary"' in page
    assert "Vulnerable code not in execute path" in page
    assert f'action="/findings/{finding.pk}/investigate/"' in page


def test_a_person_marks_not_affected_with_a_justification_from_the_page(alpine, people):
    finding = alpine["libcrypto3"]
    client = signed_in(people["alice"])
    client.post(
        f"/findings/{finding.pk}/false-positive/",
        {"reason": "no TLS", "justification": "component_not_present"},
    )
    finding.refresh_from_db()
    assert (finding.status, finding.vex_justification) == (
        "false_positive",
        "component_not_present",
    )
    page = client.get(f"/findings/{finding.pk}/").content.decode()
    assert "Component not present" in page and "<code>component_not_present</code>" in page


def test_a_bad_justification_from_the_page_is_a_message_not_a_decision(alpine, people):
    finding = alpine["libcrypto3"]
    answer = signed_in(people["alice"]).post(
        f"/findings/{finding.pk}/false-positive/",
        {"reason": "x", "justification": "<script>"},
        follow=True,
    )
    assert answer.status_code == 200
    assert "Not done" in answer.content.decode()
    assert Finding.objects.get(pk=finding.pk).status == "open"


def test_investigate_then_stop_from_the_page(alpine, people):
    finding = alpine["libssl3"]
    client = signed_in(people["bob"])
    client.post(f"/findings/{finding.pk}/investigate/", {"reason": "reachable?"})
    page = client.get(f"/findings/{finding.pk}/").content.decode()
    assert "Under investigation" in page and "Stop investigating" in page

    client.post(f"/findings/{finding.pk}/stop-investigating/", {})
    finding.refresh_from_db()
    assert finding.investigating_since is None


def test_the_image_page_links_its_downloads(alpine, people):
    repository = alpine["libssl3"].repository_id
    page = signed_in(people["vera"]).get(f"/images/{repository}/").content.decode()

    for path in ("vex", "trivyignore", "grype-ignore"):
        assert f'href="/api/v1/images/{repository}/{path}/"' in page
