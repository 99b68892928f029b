from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from remediator.engine.management.commands.demo import ensure_groups
from remediator.intake.receive import delivery_process
from remediator.intake.store import delivery_store

from ..conftest import FIXTURES


def ingest(relative: str, source: str = "trivy", image: str = ""):
    body = (FIXTURES / relative).read_bytes()
    delivery, _ = delivery_store(source=source, body=body, image_hint=image)
    return delivery_process(delivery=delivery).scan


def viewer(username: str, **fields):
    """A user in the Viewer group (every view permission)."""
    user = get_user_model().objects.create_user(username, password="x", **fields)
    user.groups.add(ensure_groups()["Viewer"])
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def reader():
    return viewer("reader")


@pytest.fixture
def api(reader) -> APIClient:
    client = APIClient()
    client.force_authenticate(reader)
    return client


@pytest.fixture
def staff_api() -> APIClient:
    """Staff in the Viewer group: reads raw delivery bodies."""
    client = APIClient()
    client.force_authenticate(viewer("staff", is_staff=True))
    return client


@pytest.fixture
def delivery_editor_api() -> APIClient:
    user = viewer("editor")
    user.user_permissions.add(Permission.objects.get(codename="change_delivery"))
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


@pytest.fixture
def token(reader) -> str:
    return Token.objects.create(user=reader).key
