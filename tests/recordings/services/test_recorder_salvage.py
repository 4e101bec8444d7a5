"""After a dead worker: where a recording resumes, and what becomes of the files it left (real playlists)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import override_settings

from recordings.choices import FileStatus
from recordings.file_locations import task_output_dir
from recordings.models import PublishSession, RecordFile, RecordTask
from recordings.services import record_files_salvage, task_resume_point
from tests.conftest import Tenant
from workers.engine import HlsPlaylistWriter
from workers.session_recorder.results import dead_worker_playlist_closer

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Path]:
    with override_settings(LIVEREC_MEDIA_DIR=tmp_path / "media", LIVEREC_SPOOL_DIR=tmp_path / "spool"):
        yield tmp_path / "spool"


def make_task(tenant: Tenant, **fields: object) -> RecordTask:
    session = PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name="s1",
        started_at=T0,
        source_url="rtmp://127.0.0.1:1935/live/s1",
        video_codec="h264",
        audio_codec="aac",
        width=640,
        height=360,
    )
    return RecordTask.objects.create(
        app=tenant.app,
        kind="rule",
        domain="push.tv",
        app_name="live",
        stream_name="s1",
        session=session,
        start_time=T0,
        formats={"hls": {"record_interval": 0, "storage_time": 0}, "mp4": {"record_interval": 60, "storage_time": 0}},
        **fields,
    )


def add_file(task: RecordTask, fmt: str, end: datetime, *, session: bool = True) -> None:
    RecordFile.objects.create(
        app=task.app,
        task=task,
        session=task.session if session else None,
        domain=task.domain,
        app_name=task.app_name,
        stream_name=task.stream_name,
        format=fmt,
        start_time=T0,
        end_time=end,
        name=f"{fmt}-{end.timestamp()}",
        duration=(end - T0).total_seconds(),
        size=1,
    )


def grown_playlist(path: Path, segments: int) -> HlsPlaylistWriter:
    path.parent.mkdir(parents=True, exist_ok=True)
    playlist = HlsPlaylistWriter(path)
    for _ in range(segments):
        name = playlist.segment_name()
        (path.parent / name).write_bytes(b"\x47" * 188)
        playlist.add_segment(name, 2.0)
    return playlist


def test_a_recording_resumes_where_its_files_of_this_push_end(tenant: Tenant) -> None:
    task = make_task(tenant)
    assert task_resume_point(task=task) == T0.timestamp()
    add_file(task, "mp4", T0 + timedelta(seconds=60))
    add_file(task, "mp4", T0 + timedelta(seconds=120))
    add_file(task, "hls", T0 + timedelta(seconds=500))  # its end is only estimated: not a resume point
    add_file(task, "mp4", T0 + timedelta(seconds=900), session=False)  # an earlier push's file
    assert task_resume_point(task=task) == (T0 + timedelta(seconds=120)).timestamp()


def test_a_task_without_a_live_session_starts_at_its_start_time(tenant: Tenant) -> None:
    task = make_task(tenant)
    task.session = None
    assert task_resume_point(task=task) == T0.timestamp()


def test_salvage_drops_half_files_stores_grown_playlists_and_keeps_the_held_one(tenant: Tenant, spool: Path) -> None:
    folder = task_output_dir(make_task(tenant))
    grown = grown_playlist(folder / "grown.m3u8", 3)
    last_segment_time = T0.timestamp() + 600
    os.utime(grown.path, (last_segment_time, last_segment_time))
    grown_playlist(folder / "empty.m3u8", 0).write()
    held = grown_playlist(folder / "held.m3u8", 2)
    (folder / ".half.mp4.part").write_bytes(b"half")
    task = RecordTask.objects.select_related("session").get()
    task.hls_pending = {"path": str(held.path), "start": T0.timestamp()}
    task.save()

    stored = record_files_salvage(task=task, close_playlist=dead_worker_playlist_closer(task.session, task.public_id))

    assert not (folder / ".half.mp4.part").exists()
    assert not (folder / "empty.m3u8").exists()
    assert held.path.exists() and "#EXT-X-ENDLIST" not in held.path.read_text()
    assert [(f.format, f.name, f.status) for f in stored] == [("hls", "grown", FileStatus.UPLOADING)]
    row = stored[0]
    assert row.duration == 6.0
    assert row.end_time.timestamp() == last_segment_time
    assert row.start_time.timestamp() == last_segment_time - 6.0
    assert (row.video_codec, row.audio_codec, row.width, row.height) == ("h264", "aac", 640, 360)
    staged = Path(row.local_path)
    assert staged.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    assert sorted(p.name for p in staged.parent.iterdir()) == ["grown.m3u8", "grown_0.ts", "grown_1.ts", "grown_2.ts"]
