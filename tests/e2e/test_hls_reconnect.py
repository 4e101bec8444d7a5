"""HLS reconnect stitching: a push back within hls_continue_duration continues one playlist."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av
import m3u8
import pytest

from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus, TaskStatus
from recordings.models import PublishSession, RecordFile, RecordTask
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import settled_files, wait_until
from tests.support.media import push_generated

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PUSH = 6.0
GOP = 1.0


def setup_stream(name: str, continue_seconds: int) -> App:
    app = App.objects.create(name=f"hls-{name}")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(
        app=app, name="hls", hls_enabled=True, hls_continue_duration=continue_seconds
    )
    RecordRule.objects.create(app=app, stream_name=name, template=template)
    return app


def push_once(ingest: Any, name: str, *, audio: bool = True) -> None:
    sessions_before = PublishSession.objects.filter(stream_name=name).count()
    publisher = push_generated(ingest.rtmp_url(name), seconds=PUSH, acodec="aac" if audio else None)
    assert publisher.wait(timeout=30) == 0
    wait_until(
        lambda: (
            PublishSession.objects.filter(stream_name=name, recorder_status=RecorderStatus.DONE).count()
            > sessions_before
        ),
        20,
        "the push's recorder to finish",
    )


def media_seconds(playlist_path: Path, uris: list[str]) -> float:
    total = 0.0
    for uri in uris:
        with av.open(str(playlist_path.parent / uri)) as container:
            total += float(container.duration or 0) / av.time_base
    return total


@pytest.mark.parametrize("audio", [True, False], ids=["audio+video", "video-only"])
def test_a_reconnect_inside_the_window_continues_one_playlist(ingest: Any, beat: Any, audio: bool) -> None:
    name = f"stitch{int(audio)}"
    setup_stream(name, continue_seconds=10)
    push_once(ingest, name, audio=audio)
    task = RecordTask.objects.get(stream_name=name)
    assert task.status == TaskStatus.WAITING and task.hls_pending
    assert not RecordFile.objects.filter(format="hls").exists(), "announced only when the window expires"
    time.sleep(2)
    push_once(ingest, name, audio=audio)
    assert RecordTask.objects.filter(stream_name=name).count() == 1
    (record,) = settled_files(25, stream_name=name, format="hls")
    assert record.status == FileStatus.STORED, record.error
    assert RecordTask.objects.get(pk=task.pk).status == TaskStatus.FINISHED

    path = Path(record.local_path)
    playlist = m3u8.load(str(path))
    assert playlist.is_endlist
    assert sum(1 for s in playlist.segments if s.discontinuity) == 1
    uris = [s.uri for s in playlist.segments]
    numbers = [int(uri.rsplit("_", 1)[1].split(".")[0]) for uri in uris]
    assert numbers == list(range(len(numbers))), "segment numbers continue across the pushes"
    extinf = sum(s.duration for s in playlist.segments)
    assert extinf == pytest.approx(2 * PUSH, abs=2 * (GOP + 0.7))
    assert media_seconds(path, uris) == pytest.approx(extinf, abs=0.05 * len(uris))
    assert record.duration == pytest.approx(extinf, abs=0.01)
    # Issue 16 item 12: it ends with the last push (not start + media), and its name carries that end.
    span = (record.end_time - record.start_time).total_seconds()
    assert span >= extinf + 2, (span, extinf)
    assert path.stem.endswith(record.end_time.strftime("_%Y-%m-%d-%H-%M-%S")), path.stem
    assert path.stem != f"{name}_{record.start_time:%Y-%m-%d-%H-%M-%S}_{record.start_time:%Y-%m-%d-%H-%M-%S}"


def test_a_reconnect_after_the_window_makes_two_playlists(ingest: Any, beat: Any) -> None:
    setup_stream("apart", continue_seconds=2)
    push_once(ingest, "apart")
    wait_until(
        lambda: RecordFile.objects.filter(stream_name="apart", format="hls").count() == 1, 15, "the first playlist"
    )
    push_once(ingest, "apart")
    for record in settled_files(15, count=2, stream_name="apart", format="hls"):
        playlist = m3u8.load(record.local_path)
        assert playlist.is_endlist
        assert Path(record.local_path).stem.endswith(record.end_time.strftime("_%Y-%m-%d-%H-%M-%S"))
        assert not any(s.discontinuity for s in playlist.segments)
    assert RecordTask.objects.filter(stream_name="apart").count() == 2
