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
from rules.services import domain_create, rule_create
from templates_app.models import RecordTemplate
from templates_app.services import template_create, template_update

DEMO_APP = "demo"
DEMO_HOST = "127.0.0.1"
DEMO_TEMPLATE = "demo-all-formats"
ALL_FORMATS: dict[str, Any] = {fmt: {"record_interval": 1800} for fmt in ("flv", "hls", "mp4", "aac", "mp3")}


def demo_setup(*, stream: str) -> tuple[App, list[str]]:
    """The demo's App, its push domain 127.0.0.1, a template with every format and a rule for ``live/<stream>``.

    Push domains are unique across the service: when another App (the README's first steps, say) already owns
    127.0.0.1, a push there belongs to that App, so the demo's template and rule go into that App, and it says so.
    Everything is written through the services, as the API and the console do.
    """
    notes: list[str] = []
    app = App.objects.filter(name=DEMO_APP).first() or App.objects.create(name=DEMO_APP)
    domain = Domain.objects.filter(name=DEMO_HOST).select_related("app").first()
    if domain is None:
        domain = domain_create(app=app, name=DEMO_HOST)
    elif domain.app_id != app.pk:
        notes.append(
            f"push domain {DEMO_HOST} belongs to App {domain.app.name!r} (id {domain.app_id}): the demo records "
            f"through that App (template {DEMO_TEMPLATE!r} and a rule for live/{stream} are added there)"
        )
        app = domain.app
    template = RecordTemplate.objects.filter(app=app, name=DEMO_TEMPLATE).first()
    if template is None:
        template = template_create(app=app, name=DEMO_TEMPLATE, **ALL_FORMATS)
    else:
        template = template_update(instance=template, **ALL_FORMATS)
    if not RecordRule.objects.filter(app=app, domain=DEMO_HOST, app_name="live", stream_name=stream).exists():
        rule_create(app=app, template=template, domain=DEMO_HOST, app_name="live", stream_name=stream)
    notes.append(f"App {app.name!r} (id {app.pk}) records live/{stream} into {', '.join(ALL_FORMATS)}")
    return app, notes


class Command(BaseCommand):
    help = "Push a generated test stream into the running ingest and print the files it was recorded into."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=int, default=20)
        parser.add_argument("--stream", default="demo")

    def handle(self, *args: Any, **options: Any) -> None:
        app, notes = demo_setup(stream=options["stream"])
        # The push goes to 127.0.0.1 whatever the ingest's port: the domain is the host of the push URL.
        for note in notes:
            self.stdout.write(note)
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
            session = PublishSession.objects.filter(
                app=app, stream_name=options["stream"], started_at__gte=_utc(since)
            ).first()
            if session and session.recorder_status in (RecorderStatus.DONE, RecorderStatus.FAILED):
                break
            time.sleep(0.5)
        if session is None:
            raise CommandError("no session was opened: is the web process running?")
        if session.recorder_note:
            self.stdout.write(session.recorder_note)
        files = RecordFile.objects.filter(session=session).order_by("format")
        for record in files:
            self.stdout.write(
                f"{record.format:4} {record.duration:6.2f} s {record.status:8} {record.local_path or record.error}"
            )
        self.stdout.write(f"{files.count()} file(s); also at /api/v1/files/ and in the admin under Recorded files")


def _utc(epoch: float) -> Any:
    return datetime.fromtimestamp(epoch, tz=UTC)
