"""A starved worker records late, never less (issue 17).

The worker is throttled the way a CPU cgroup quota or ``cpulimit`` does it, with SIGSTOP/SIGCONT on its whole
process group: first for longer than the janitor's keep window while a push begins (its recorder is queued and
not started), then in stretches longer than the heartbeat's stale age during the push. nginx-rtmp goes on writing
the push to its record file meanwhile. Every pushed frame must be in the files, no file fails, the watchdog never
takes the starved recorder for dead, and no second recorder is started; the MP3 (encoded in the worker's pool)
is whole too.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from deploy.nginx_rtmp import NginxRtmp
from deploy.record_janitor import KEEP_SECONDS
from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus
from recordings.models import PublishSession, RecordFile
from recordings.services import recorders_reclaim
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.support.media import push_generated
from tests.support.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PUSHED = 20
FPS = 25
#: The worker sleeps through the push's start for longer than the janitor keeps of a file nobody follows.
FIRST_STOP = KEEP_SECONDS + 3
#: Then it runs RUN seconds out of every STOP + RUN: its heartbeat misses the stale age (4 s) every time.
STOP, RUN = 5.0, 1.0


def video_frames(path: str) -> int:
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
            "-show_entries", "stream=nb_read_frames", "-of", "json", path,
        ],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(json.loads(out.stdout)["streams"][0]["nb_read_frames"])


def throttle(worker: subprocess.Popen[bytes], seconds: float) -> None:
    os.killpg(worker.pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        os.killpg(worker.pid, signal.SIGCONT)


@override_settings(LIVEREC_RECORDER_STALE_SECONDS=4)
def test_a_starved_worker_records_every_frame_late_with_one_recorder(
    live_server: Any, worker_processes: Any, beat: Any, tmp_path: Path
) -> None:
    app = App.objects.create(name="starved")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(
        app=app,
        name="t",
        flv_enabled=True,
        flv_record_interval=8,
        mp4_enabled=True,
        mp4_record_interval=3600,
        mp3_enabled=True,
        mp3_record_interval=3600,
    )
    RecordRule.objects.create(app=app, template=template)
    worker = worker_processes()
    port = free_port()
    hook = f"{live_server.url}/hooks/nginx-rtmp/?token=e2e-hook-token&ingest=127.0.0.1:{port}"
    reclaimed: list[int] = []
    with NginxRtmp(tmp_path / "nginx", port, hook, record_dir=tmp_path / "nginx" / "record") as ingest:
        wait_until(lambda: (Path(settings.LIVEREC_SPOOL_DIR).parent / "worker-0.log").stat().st_size > 0, 20, "worker")
        time.sleep(2)  # the worker consumes its queues
        os.killpg(worker.pid, signal.SIGSTOP)
        try:
            publisher = push_generated(ingest.rtmp_url("starved"), seconds=PUSHED, gop_frames=FPS)
            time.sleep(FIRST_STOP)
        finally:
            os.killpg(worker.pid, signal.SIGCONT)
        try:
            wait_until(
                lambda: PublishSession.objects.filter(recorder_status=RecorderStatus.RUNNING).exists(), 20, "recorder"
            )
            while publisher.poll() is None:
                os.killpg(worker.pid, signal.SIGSTOP)
                try:
                    time.sleep(STOP)
                    reclaimed += recorders_reclaim()  # the watchdog's judgement while the heartbeat is stale
                finally:
                    os.killpg(worker.pid, signal.SIGCONT)
                time.sleep(RUN)
            assert publisher.wait(timeout=30) == 0
        finally:
            publisher.kill()
        session = PublishSession.objects.get()
        wait_until(
            lambda: PublishSession.objects.get(pk=session.pk).recorder_status == RecorderStatus.DONE, 90, "the end"
        )
        wait_until(lambda: not RecordFile.objects.filter(status=FileStatus.UPLOADING).exists(), 30, "uploads")
    assert reclaimed == [], "a starved recorder is not dead"
    log = (Path(settings.LIVEREC_SPOOL_DIR).parent / "worker-0.log").read_text(errors="replace")
    assert "is not alive; queued again" not in log and "this job stands down" not in log, "one recorder only"
    files = list(RecordFile.objects.order_by("format", "start_time"))
    assert files and all(f.status == FileStatus.STORED for f in files), [(f.format, f.status, f.error) for f in files]
    pushed = PUSHED * FPS
    for fmt in ("flv", "mp4"):
        frames = sum(video_frames(f.local_path) for f in files if f.format == fmt)
        print(f"starved worker: {fmt} holds {frames} of {pushed} pushed frames")
        assert pushed - 2 <= frames <= pushed + 2, (fmt, frames, pushed)
    mp3 = [f for f in files if f.format == "mp3"]
    assert len(mp3) == 1 and mp3[0].duration == pytest.approx(PUSHED, abs=0.1), "the MP3, encoded aside, is whole"
