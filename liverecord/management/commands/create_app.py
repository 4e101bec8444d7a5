from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from liverecord.errors import ConflictError
from liverecord.services import app_create


class Command(BaseCommand):
    help = "Create a tenant App and print its id and a new API key (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="name of the App (unique)")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name or len(name) > 64:
            raise CommandError("NAME must be 1–64 characters")
        try:
            app, raw_key = app_create(name=name)
        except ConflictError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"app_id: {app.pk}\napi_key: {raw_key}\n")
        self.stderr.write("Keep the key now: only its hash is stored.")
