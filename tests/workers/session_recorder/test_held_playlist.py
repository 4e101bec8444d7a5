"""``close_task_playlist`` (Celery task ``close_hls_playlist``): a playlist held open for reconnects is ended,
stored as one file and announced, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.test import override_settings

from recordings.choices import FileStatus, TaskStatus
from recordings.dispatch import UPLOAD_FILE
from recordings.models import RecordFile, RecordTask
from tests.conftest import Tenant
from workers.engine import HlsPlaylistWriter
from workers.session_recorder import close_task_playlist

START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Path]:
    with override_settings(LIVEREC_SPOOL_DIR=tmp_path / "spool", LIVEREC_MEDIA_DIR=tmp_path / "media"):
        yield tmp_path / "spool"


@pytest.fixture
def sent() -> Iterator[mock.MagicMock]:
    """What the service hands to the broker (the seam of ``recordings.dispatch``)."""
    with mock.patch("recordings.dispatch.send_now") as send:
        yield send


def held_playlist(spool: Path, *, pushes: int = 1) -> HlsPlaylistWriter:
    """A playlist as a reconnect window leaves it: segments of one or more pushes, no #EXT-X-ENDLIST yet."""
    playlist = HlsPlaylistWriter(spool / "tasks" / "t1" / "s1_20261121080000.m3u8")
    for push in range(pushes):
        if push:
            playlist.mark_discontinuity()
        for _ in range(2):
            segment = playlist.path.parent / playlist.segment_name()
            segment.parent.mkdir(parents=True, exist_ok=True)
            segment.write_bytes(b"\x47" * 188 * (playlist.next_sequence + 1))
            playlist.add_segment(segment.name, 2.5)
    return playlist


def holding_task(tenant: Tenant, playlist: HlsPlaylistWriter | None, **fields: Any) -> RecordTask:
    pending = None
    if playlist is not None:
        pending = {
            "path": str(playlist.path),
            "start": START.timestamp(),
            "video_codec": "h264",
            "audio_codec": "aac",
            "width": 640,
            "height": 360,
        }
    return RecordTask.objects.create(
        app=tenant.app,
        kind="rule",
        status=TaskStatus.FINISHED,
        domain="push.tv",
        app_name="live",
        stream_name="s1",
        formats={"hls": {"record_interval": 0, "storage_time": 3600}},
        hls_continue_duration=30,
        hls_pending=pending,
        **fields,
    )


def test_the_held_playlist_is_ended_stored_as_one_file_and_uploaded(
    tenant: Tenant, spool: Path, sent: mock.MagicMock, django_capture_on_commit_callbacks: Any
) -> None:
    playlist = held_playlist(spool)
    task = holding_task(tenant, playlist, hls_close_lease_until=START)
    with django_capture_on_commit_callbacks(execute=True):
        close_task_playlist(task.pk)
    (file,) = RecordFile.objects.filter(task=task)
    assert (file.format, file.status, file.name, file.storage_time) == (
        "hls",
        FileStatus.UPLOADING,
        "s1_2026-11-21-08-00-00_2026-11-21-08-00-05",  # named by its real end once closed (the task's default name)
        3600,
    )
    assert (file.start_time, file.end_time, file.duration) == (START, START + timedelta(seconds=5), 5.0)
    assert (file.video_codec, file.audio_codec, file.width, file.height) == ("h264", "aac", 640, 360)
    staged = Path(file.local_path)
    assert staged.read_text().rstrip().endswith("#EXT-X-ENDLIST")
    assert sorted(p.name for p in staged.parent.glob("*.ts")) == ["s1_20261121080000_0.ts", "s1_20261121080000_1.ts"]
    assert file.size == staged.stat().st_size + 188 + 376
    assert not playlist.path.parent.exists(), "the task's folder goes with its last playlist"
    task.refresh_from_db()
    assert task.hls_pending is None and task.hls_close_lease_until is None
    sent.assert_called_once_with(UPLOAD_FILE, file.pk, countdown=None)


def test_a_playlist_stitched_over_two_pushes_is_one_file(tenant: Tenant, spool: Path, sent: mock.MagicMock) -> None:
    task = holding_task(tenant, held_playlist(spool, pushes=2))
    close_task_playlist(task.pk)
    (file,) = RecordFile.objects.filter(task=task)
    assert file.duration == 10.0 and file.end_time == START + timedelta(seconds=10)
    text = Path(file.local_path).read_text()
    assert text.count("#EXT-X-DISCONTINUITY") == 1 and text.count("#EXTINF") == 4


def test_closing_twice_stores_one_file(tenant: Tenant, spool: Path, sent: mock.MagicMock) -> None:
    task = holding_task(tenant, held_playlist(spool))
    close_task_playlist(task.pk)
    close_task_playlist(task.pk)
    assert RecordFile.objects.filter(task=task).count() == 1


def test_a_task_that_holds_no_playlist_is_left_alone(tenant: Tenant, spool: Path, sent: mock.MagicMock) -> None:
    task = holding_task(tenant, None)
    close_task_playlist(task.pk)
    close_task_playlist(task.pk + 1000)  # gone: nothing to do either
    assert not RecordFile.objects.exists() and sent.call_count == 0


def test_a_held_playlist_that_is_gone_is_forgotten_without_a_file(
    tenant: Tenant, spool: Path, sent: mock.MagicMock
) -> None:
    playlist = held_playlist(spool)
    task = holding_task(tenant, playlist)
    playlist.path.unlink()
    close_task_playlist(task.pk)
    task.refresh_from_db()
    assert task.hls_pending is None, "beat does not queue its close again and again"
    assert not RecordFile.objects.exists()
