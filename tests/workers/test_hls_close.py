"""Closing a stitched HLS playlist (issue 16 item 12): its end is the end of the last push, and its name says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import override_settings

from recordings.models import PublishSession, RecordFile, RecordTask
from tests.conftest import Tenant
from workers.engine import HlsPlaylistWriter
from workers.session_recorder import close_task_playlist

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC).timestamp()
TEMPLATE = "{StreamID}_{StartHour}-{StartMinute}-{StartSecond}_{EndHour}-{EndMinute}-{EndSecond}"


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[Path]:
    with override_settings(LIVEREC_MEDIA_DIR=tmp_path / "media", LIVEREC_SPOOL_DIR=tmp_path / "spool"):
        yield tmp_path


def test_a_stitched_playlist_ends_with_its_last_push_and_is_named_so(tenant: Tenant, dirs: Path) -> None:
    session = PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name="s1",
        started_at=datetime.fromtimestamp(T0, tz=UTC),
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/s1",
    )
    folder = dirs / "spool" / "tasks" / "t1"
    folder.mkdir(parents=True)
    # Two pushes of 6 s with a 20 s pause between them: 12 s of media, from 08:00:00 to 08:00:32.
    playlist = HlsPlaylistWriter(folder / "s1_08-00-00_08-00-00.m3u8")
    for duration in (6.0, 6.0):
        name = playlist.segment_name()
        (folder / name).write_bytes(b"\x47" * 188)
        playlist.add_segment(name, duration)
    task = RecordTask.objects.create(
        app=tenant.app,
        kind="rule",
        domain="push.tv",
        app_name="live",
        stream_name="s1",
        session=session,
        file_name_template=TEMPLATE,
        formats={"hls": {"storage_time": 0}},
        hls_pending={"path": str(playlist.path), "start": T0, "end": T0 + 32.0},
    )
    close_task_playlist(task.pk)

    (record,) = RecordFile.objects.filter(task=task)
    assert record.start_time.timestamp() == T0
    assert record.end_time.timestamp() == T0 + 32.0  # not start + 12 s of media
    assert record.duration == pytest.approx(12.0)
    stored = Path(record.local_path)
    assert stored.name == "s1_08-00-00_08-00-32.m3u8"
    listed = [line for line in stored.read_text().splitlines() if line and not line.startswith("#")]
    assert listed == ["s1_08-00-00_08-00-00_0.ts", "s1_08-00-00_08-00-00_1.ts"]
    assert all((stored.parent / uri).exists() for uri in listed), "the segments travel with their playlist"
