"""Admission control: a full worker turns a new recorder down, says why, and another worker takes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deploy.nginx_rtmp import NginxRtmp
from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus
from recordings.models import PublishSession, RecordFile, RecordTask
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.support.media import push_generated
from tests.support.ports import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_full_worker_hands_the_stream_to_another(live_server: Any, worker_processes: Any, tmp_path: Path) -> None:
    app = App.objects.create(name="admission")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(app=app, name="t", flv_enabled=True, flv_record_interval=3600)
    RecordRule.objects.create(app=app, template=template)
    worker_processes(LIVEREC_STREAMS_PER_WORKER="1")
    port = free_port()
    hook = f"{live_server.url}/hooks/nginx-rtmp/?token=e2e-hook-token&ingest=127.0.0.1:{port}"
    with NginxRtmp(tmp_path / "nginx", port, hook, record_dir=tmp_path / "nginx" / "record") as ingest:
        first = push_generated(ingest.rtmp_url("one"), seconds=20)
        second = None
        try:
            wait_until(
                lambda: PublishSession.objects.filter(
                    stream_name="one", recorder_status=RecorderStatus.RUNNING
                ).exists(),
                20,
                "the first recorder",
            )
            second = push_generated(ingest.rtmp_url("two"), seconds=12)
            refused = wait_until(
                lambda: PublishSession.objects.filter(stream_name="two").exclude(recorder_note="").first(),
                20,
                "a refusal",
            )
            assert refused.recorder_status == RecorderStatus.PENDING
            assert "is full (1 streams); waiting for another worker" in refused.recorder_note
            task = RecordTask.objects.get(session=refused)
            assert task.error == refused.recorder_note, "the reason shows on the task too"
            worker_processes(LIVEREC_STREAMS_PER_WORKER="5")
            wait_until(
                lambda: PublishSession.objects.get(pk=refused.pk).recorder_status == RecorderStatus.RUNNING,
                20,
                "another worker",
            )
            refused.refresh_from_db()
            assert refused.recorder_note == "" and RecordTask.objects.get(session=refused).error == ""
            assert second.wait(timeout=40) == 0 and first.wait(timeout=40) == 0
        finally:
            first.kill()
            if second is not None:
                second.kill()
        wait_until(lambda: RecordFile.objects.filter(status=FileStatus.STORED).count() == 2, 40, "both streams' files")
    assert set(RecordFile.objects.values_list("stream_name", flat=True)) == {"one", "two"}
