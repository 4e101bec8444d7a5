"""``task_hls_sync`` (a live HLS recording's upload as it grows) and ``record_file_delete``, on real S3 (moto) and
local storage."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from recordings.choices import FileStatus
from recordings.models import RecordFile, RecordTask
from recordings.services import (
    PackagedResult,
    record_file_backup,
    record_file_delete,
    record_file_store,
    record_file_upload,
    task_hls_sync,
)
from recordings.services import files as files_service
from tests.conftest import Tenant
from tests.recordings.test_uploads import T0, bucket_name, dirs, make_world, packaged, receiver, s3  # noqa: F401
from tests.support.hook_receiver import HookReceiver
from tests.support.s3 import S3Server
from workers.engine import HlsPlaylistWriter

pytestmark = pytest.mark.django_db


def grow(playlist: HlsPlaylistWriter, segments: int) -> None:
    """Add segments to a live playlist as the packager does: the segment file, then the playlist line."""
    for _ in range(segments):
        segment = playlist.path.parent / playlist.segment_name()
        segment.parent.mkdir(parents=True, exist_ok=True)
        segment.write_bytes(b"\x47" * 188 * (playlist.next_sequence + 1))
        playlist.add_segment(segment.name, 2.0)


def stored(s3: S3Server) -> dict[str, bytes]:  # noqa: F811 - the fixture's type
    client: Any = s3.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket_name()).get("Contents", [])]
    return {key: client.get_object(Bucket=bucket_name(), Key=key)["Body"].read() for key in keys}


def test_a_live_playlist_sends_each_segment_once_then_itself(
    tenant: Tenant,
    dirs: Path,  # noqa: F811 - fixtures imported above
    s3: S3Server,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, s3)
    client: Any = s3.client()
    client.put_bucket_versioning(Bucket=bucket_name(), VersioningConfiguration={"Status": "Enabled"})
    playlist = HlsPlaylistWriter(dirs / "spool" / "tasks" / task.public_id / "s1_live.m3u8")
    grow(playlist, 2)
    assert task_hls_sync(task=task, playlist=playlist.path) == 2
    assert stored(s3) == {
        "live/s1_live_0.ts": b"\x47" * 188,
        "live/s1_live_1.ts": b"\x47" * 376,
        "live/s1_live.m3u8": playlist.path.read_bytes(),
    }

    grow(playlist, 1)
    assert task_hls_sync(task=task, playlist=playlist.path) == 1, "only the new segment"
    assert stored(s3)["live/s1_live.m3u8"].decode().count("#EXTINF") == 3, "the stored playlist follows the live one"
    versions = client.list_object_versions(Bucket=bucket_name(), Prefix="live/s1_live_0.ts")["Versions"]
    assert len(versions) == 1, "a segment already stored is not sent again"


def test_a_playlist_not_made_yet_sends_nothing(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    s3: S3Server,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, s3)
    assert task_hls_sync(task=task, playlist=dirs / "spool" / "tasks" / "none" / "s1.m3u8") == 0
    assert stored(s3) == {}


def test_without_a_storage_target_the_live_playlist_goes_to_local_storage(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, None)
    playlist = HlsPlaylistWriter(dirs / "spool" / "tasks" / task.public_id / "s1_local.m3u8")
    grow(playlist, 1)
    assert task_hls_sync(task=task, playlist=playlist.path) == 1
    media = dirs / "media" / f"app{tenant.app.pk}"
    assert (media / "s1_local_0.ts").read_bytes() == b"\x47" * 188
    assert (media / "s1_local.m3u8").read_text() == playlist.path.read_text()


def stored_hls(task: RecordTask, dirs: Path, name: str) -> RecordFile:  # noqa: F811
    playlist = HlsPlaylistWriter(dirs / "engine-out" / f"{name}.m3u8")
    grow(playlist, 2)
    playlist.finish()
    result = PackagedResult(
        format="hls",
        path=playlist.path,
        start=T0,
        end=T0 + timedelta(seconds=4),
        duration=4.0,
        size=playlist.size(),
        video_codec="h264",
        audio_codec="aac",
        width=640,
        height=360,
        error=None,
    )
    file = record_file_store(task=task, result=result, name=name)
    assert record_file_upload(file_id=file.pk).stored
    file.refresh_from_db()
    return file


def test_deleting_a_stored_playlist_deletes_its_segments_and_its_row(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    s3: S3Server,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, s3)
    file = stored_hls(task, dirs, "s1_vod")
    assert sorted(stored(s3)) == ["live/s1_vod.m3u8", "live/s1_vod_0.ts", "live/s1_vod_1.ts"]
    assert file.local_path == "", "remote: the segment names come from the stored playlist"
    record_file_delete(file=file)
    assert stored(s3) == {}
    assert not RecordFile.objects.filter(pk=file.pk).exists()


def test_deleting_a_locally_stored_playlist_removes_it_from_disk(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, None)
    file = stored_hls(task, dirs, "s1_here")
    folder = Path(file.local_path).parent
    assert sorted(p.name for p in folder.iterdir()) == ["s1_here.m3u8", "s1_here_0.ts", "s1_here_1.ts"]
    record_file_delete(file=file)
    assert list(folder.iterdir()) == []
    assert not RecordFile.objects.filter(pk=file.pk).exists()


def test_deleting_a_file_in_backup_drops_its_spooled_copy_and_asks_no_storage(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    s3: S3Server,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, s3)
    file = record_file_store(task=task, result=packaged(dirs, b"held"), name="s1_held")
    record_file_backup(file_id=file.pk, error="storage unavailable")
    file.refresh_from_db()
    staging = Path(file.local_path).parent
    assert file.status == FileStatus.BACKUP and staging.is_dir()
    s3.stop()  # nothing stored remotely: deleting must not need the store
    record_file_delete(file=file)
    assert not staging.exists()
    assert not RecordFile.objects.filter(pk=file.pk).exists()


def test_a_late_live_sync_skips_segments_already_gone(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A sync that runs late on a loaded box finds the recording finished and its files moved: not an error."""
    task = make_world(tenant, receiver, None)
    playlist = HlsPlaylistWriter(dirs / "spool" / "tasks" / task.public_id / "s1_late.m3u8")
    grow(playlist, 3)
    real_backend_for = files_service.backend_for

    def finishing_meanwhile(config: Any) -> Any:
        backend = real_backend_for(config)
        upload = backend.upload

        def upload_then_finish(path: Path, key: str, **kwargs: Any) -> Any:
            stored_object = upload(path, key, **kwargs)
            for segment in playlist.path.parent.glob("s1_late_*.ts"):  # the final upload took them all away
                segment.unlink()
            playlist.path.unlink(missing_ok=True)
            return stored_object

        monkeypatch.setattr(backend, "upload", upload_then_finish)
        return backend

    monkeypatch.setattr(files_service, "backend_for", finishing_meanwhile)
    assert task_hls_sync(task=task, playlist=playlist.path) == 1, "what was there is sent; the rest is skipped"
    media = dirs / "media" / f"app{tenant.app.pk}"
    assert (media / "s1_late_0.ts").exists() and not (media / "s1_late_1.ts").exists()
