"""The Policies page's admission section, as each kind of user sees it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from remediator.core.permissions import GROUP_VIEWER
from remediator.engine.management.commands.demo import ensure_groups
from remediator.engine.models import AdmissionPolicy, BuildTarget
from tests.engine.factories import running_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client, django_user_model):
    ensure_groups()
    user = django_user_model.objects.create_user("vera", password="pw")
    user.groups.add(Group.objects.get(name=GROUP_VIEWER))
    client.force_login(user)
    return client


@pytest.fixture
def admin(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@x.org", "pw"))
    return client


def test_a_fresh_install_says_every_image_is_admitted_with_the_link_to_create_a_policy(admin):
    body = admin.get("/policies/").content.decode()
    assert "No admission policy: every image is admitted." in body
    assert 'href="/admin/remediator/admissionpolicy/add/"' in body


def test_a_viewer_sees_the_would_deny_counts_without_edit_links(viewer, vulnerable):
    running_row("shop", "cart", "alpine:3.10")
    policy = AdmissionPolicy.objects.create(
        name="block-critical", min_severity="critical", image_glob="docker.io/library/*"
    )
    body = viewer.get("/policies/").content.decode()
    assert f'id="admission-{policy.pk}"' in body
    assert '<strong class="would-running">1</strong> container denied' in body
    assert "no build target matches" in body
    assert "Deployment/<strong>cart</strong>" in body and "<code>CVE-2024-6119</code>" in body
    assert "/admin/remediator/admissionpolicy/" not in body


def test_an_admin_sees_the_edit_link_and_the_build_target_that_matches(admin, vulnerable):
    policy = AdmissionPolicy.objects.create(name="warn-lib", mode="warn", image_glob="alpine")
    BuildTarget.objects.create(
        name="lib-images", provider="gitlab", project="7", image_patterns=["docker.io/library/*"]
    )
    body = admin.get("/policies/").content.decode()
    assert f'href="/admin/remediator/admissionpolicy/{policy.pk}/change/"' in body
    assert "lib-images" in body and "warn: admits with a warning" in body


def test_a_bad_window_shows_the_form_error_and_the_default_window(admin, vulnerable):
    AdmissionPolicy.objects.create(name="block-critical")
    response = admin.get("/policies/?admission_days=abc")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter a whole number." in body and "last 7 days" in body
