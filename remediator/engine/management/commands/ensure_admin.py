"""Create the first admin user if there is none (used by `make run`).

Takes DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD (and _EMAIL) from
the environment; without a password it generates one and prints it once, or, with
``--only-with-password`` (the container image's migrate role, whose logs outlive the
moment), creates nobody and says which setting would.
"""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from remediator.core.secrets import read_secret


class Command(BaseCommand):
    help = "Create an admin user when no superuser exists yet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only-with-password",
            action="store_true",
            help="create no user unless DJANGO_SUPERUSER_PASSWORD (or _FILE) is set",
        )

    def handle(self, *args, only_with_password: bool = False, **options) -> None:
        users = get_user_model()
        existing = users.objects.filter(is_superuser=True).order_by("id").first()
        if existing is not None:
            self.stdout.write(
                f"Admin user {existing.get_username()!r} exists; forgot its password? "
                f"manage.py changepassword {existing.get_username()}"
            )
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        password = read_secret("DJANGO_SUPERUSER_PASSWORD", required=False)
        if not password and only_with_password:
            self.stdout.write(
                "No admin user created: set DJANGO_SUPERUSER_PASSWORD (or _FILE), or run "
                "`manage createsuperuser` in a container of this image."
            )
            return
        generated = not password
        if generated:
            password = secrets.token_urlsafe(12)
        email = os.environ.get("DJANGO_SUPERUSER_EMAIL", "")
        users.objects.create_superuser(username=username, email=email, password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created admin user {username!r} with password {password}  "
                    "(shown once; set DJANGO_SUPERUSER_PASSWORD to choose your own)"
                )
            )
        else:
            self.stdout.write(f"Created admin user {username!r}.")
