from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Create the admin console's superuser if none exists: LIVEREC_ADMIN_USER (default admin) and "
        "LIVEREC_ADMIN_PASSWORD, or a generated password printed once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(is_superuser=True).exists():
            self.stdout.write("admin: an administrator already exists (manage.py changepassword to reset)")
            return
        username = os.environ.get("LIVEREC_ADMIN_USER", "admin")
        password = os.environ.get("LIVEREC_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user_model.objects.create_superuser(username=username, email="", password=password)
        shown = "(from LIVEREC_ADMIN_PASSWORD)" if os.environ.get("LIVEREC_ADMIN_PASSWORD") else password
        self.stdout.write(f"admin: created user {username!r} with password {shown} — shown once, keep it")
