"""A worker killed with -9 in the middle of a push: the watchdog queues its recorder again, another worker
resumes from the spool, and the recording goes on into new files. No finished file is lost or announced twice."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import av
import pytest
from django.test import override_settings

from deploy.nginx_rtmp import NginxRtmp
from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus
from recordings.models import PublishSession, RecordFile
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.faults.conftest import kill_hard
from tests.support.media import push_generated
from tests.support.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PUSHED = 36.0


def seconds_of(record: RecordFile) -> float:
    with av.open(record.local_path) as container:
        return float(container.duration or 0) / av.time_base


@override_settings(LIVEREC_RECORDER_STALE_SECONDS=4)
def test_a_worker_killed_mid_push_costs_seconds_not_the_recording(
    live_server: Any, worker_processes: Any, beat: Any, tmp_path: Path
) -> None:
    app = App.objects.create(name="faults")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(
        app=app, name="t", flv_enabled=True, flv_record_interval=8, hls_enabled=True
    )
    RecordRule.objects.create(app=app, template=template)
    first = worker_processes()
    port = free_port()
    hook = f"{live_server.url}/hooks/nginx-rtmp/?token=e2e-hook-token&ingest=127.0.0.1:{port}"
    with NginxRtmp(tmp_path / "nginx", port, hook, record_dir=tmp_path / "nginx" / "record") as ingest:
        publisher = push_generated(ingest.rtmp_url("fault"), seconds=PUSHED)
        try:
            session = wait_until(
                lambda: PublishSession.objects.filter(recorder_status=RecorderStatus.RUNNING).first(), 20, "a recorder"
            )
            wait_until(
                lambda: RecordFile.objects.filter(format="flv", status=FileStatus.STORED).exists(), 25, "a first file"
            )
            before = {r.public_id: (r.local_path, r.size) for r in RecordFile.objects.filter(status=FileStatus.STORED)}
            killed_at = time.time()
            kill_hard(first)
            worker_processes()
            assert publisher.wait(timeout=60) == 0
        finally:
            publisher.kill()
        wait_until(
            lambda: PublishSession.objects.get(pk=session.pk).recorder_status == RecorderStatus.DONE,
            60,
            "the resumed recorder",
        )
        wait_until(lambda: not RecordFile.objects.filter(status=FileStatus.UPLOADING).exists(), 20, "uploads")

    files = list(RecordFile.objects.order_by("start_time"))
    assert all(f.status == FileStatus.STORED for f in files), [(f.format, f.status, f.error) for f in files]
    for path, size in before.values():
        assert Path(path).stat().st_size == size, "a finished file is never rewritten"
    flv = [f for f in files if f.format == "flv"]
    assert len({f.name for f in flv}) == len(flv), "no file announced twice"
    recorded = sum(seconds_of(f) for f in flv)
    assert recorded >= PUSHED - 10 - 2, (recorded, [(f.start_time, seconds_of(f)) for f in flv])
    for earlier, later in itertools.pairwise(flv):
        assert later.start_time >= earlier.end_time, "files do not overlap"
    gaps = [(later.start_time - earlier.end_time).total_seconds() for earlier, later in itertools.pairwise(flv)]
    print(f"worker kill: recorded {recorded:.2f} s of {PUSHED} s pushed; gaps between files {gaps}")
    assert max(gaps) <= 10, gaps
    assert any(f.start_time.timestamp() > killed_at for f in flv), "the recording went on after the kill"
    assert [f.format for f in files].count("hls") >= 1
