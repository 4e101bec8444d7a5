from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run nginx-rtmp in the foreground with a generated config whose hooks call this service (Procfile)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--web", default=f"http://127.0.0.1:{settings.LIVEREC_WEB_PORT}", help="this service's URL")
        parser.add_argument("--print", action="store_true", help="print the config instead of running nginx")

    def handle(self, *args: Any, **options: Any) -> None:
        port = settings.LIVEREC_RTMP_PORT
        hook = f"{options['web']}/hooks/nginx-rtmp/?token={settings.LIVEREC_HOOK_TOKEN}&ingest=127.0.0.1:{port}"
        argv = ["--prefix", str(settings.VAR_DIR / "nginx"), "--rtmp-port", str(port), "--hook-url", hook]
        if settings.LIVEREC_INGEST_RECORD:
            argv += ["--record-dir", str(settings.VAR_DIR / "nginx" / "record")]
        for app_name in settings.LIVEREC_RTMP_APPS:
            argv += ["--app", app_name]
        if options["print"]:
            argv.append("--print")
        # The ingest runs as its own program (``deploy.nginx_rtmp``: nginx plus the record janitor), not inside
        # Django: this command only turns the settings into its arguments, and never loads the media engine.
        os.execv(sys.executable, [sys.executable, "-m", "deploy.nginx_rtmp", *argv])  # noqa: S606 - fixed argv
