from __future__ import annotations

import subprocess
import time
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from liverecord.models import App
from recordings.choices import RecorderStatus
from recordings.models import PublishSession, RecordFile
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate


class Command(BaseCommand):
    help = "Push a generated test stream into the running ingest and print the files it was recorded into."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=int, default=20)
        parser.add_argument("--stream", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        app, _ = App.objects.get_or_create(name="demo")
        Domain.objects.get_or_create(name="127.0.0.1", defaults={"app": app})
        template, _ = RecordTemplate.objects.update_or_create(
            app=app,
            name="demo-all-formats",
            defaults={f"{fmt}_enabled": True for fmt in ("flv", "hls", "mp4", "aac", "mp3")},
        )
        RecordRule.objects.get_or_create(
            app=app, domain="", app_name="live", stream_name=options["stream"], defaults={"template": template}
        )
        url = f"rtmp://127.0.0.1:{settings.LIVEREC_RTMP_PORT}/live/{options['stream']}"
        self.stdout.write(f"pushing a {options['seconds']} s test stream to {url} ...")
        since = time.time()
        push = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-re",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=640x360:rate=25",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=44100",
                "-t",
                str(options["seconds"]),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-g",
                "50",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-b:a",
                "96k",
                "-f",
                "flv",
                url,
            ],
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if push.returncode != 0:
            raise CommandError("the push failed: is the stack running (make run) and the ingest listening?")
        deadline = time.time() + 60
        session = None
        while time.time() < deadline:
            session = PublishSession.objects.filter(stream_name=options["stream"], started_at__gte=_utc(since)).first()
            if session and session.recorder_status in (RecorderStatus.DONE, RecorderStatus.FAILED):
                break
            time.sleep(0.5)
        if session is None:
            raise CommandError("no session was opened: is the web process running?")
        files = RecordFile.objects.filter(session=session).order_by("format")
        for record in files:
            self.stdout.write(
                f"{record.format:4} {record.duration:6.2f} s {record.status:8} {record.local_path or record.error}"
            )
        self.stdout.write(f"{files.count()} file(s); also at /api/v1/files/ and in the admin under Recorded files")


def _utc(epoch: float) -> Any:
    return datetime.fromtimestamp(epoch, tz=UTC)
