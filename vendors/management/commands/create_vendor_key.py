from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from liverecord.models import App
from vendors.choices import Vendor
from vendors.services import vendor_key_create


class Command(BaseCommand):
    help = "Make a vendor credential of an App (Tencent, ZEGO or Agora) and print it (the secret only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("app", help="name or numeric id of the App")
        parser.add_argument("--vendor", required=True, choices=Vendor.values)
        parser.add_argument("--domain", default=None, help="push domain of the App (required when it has several)")

    def handle(self, *args: Any, **options: Any) -> None:
        ref = options["app"]
        app = App.objects.filter(name=ref).first() or (
            App.objects.filter(pk=int(ref)).first() if ref.isdigit() else None
        )
        if app is None:
            raise CommandError(f"no App named {ref!r}")
        try:
            made = vendor_key_create(app=app, vendor=options["vendor"], domain=options["domain"])
        except ValidationError as exc:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())) from exc
        self.stdout.write("\n".join(made.lines()) + "\n")
        self.stderr.write("Keep the secret now: it is never shown again.")
