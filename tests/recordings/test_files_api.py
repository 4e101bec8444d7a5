from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from recordings.models import PublishSession, RecordFile, RecordTask
from recordings.selectors import file_download_url
from tests.conftest import Tenant

URL = "/api/v1/files/"
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def media(tmp_path: Path) -> Any:
    with override_settings(LIVEREC_MEDIA_DIR=tmp_path):
        yield tmp_path


def make_file(
    tenant: Tenant, media: Path, *, fmt: str = "mp4", stream: str = "s1", minutes: int = 0, **fields: Any
) -> RecordFile:
    task = RecordTask.objects.create(app=tenant.app, kind="rule", domain="push.tv", app_name="live", stream_name=stream)
    start = T0 + timedelta(minutes=minutes)
    name = f"{stream}_{minutes}"
    ext = "m3u8" if fmt == "hls" else fmt
    path = media / f"{name}.{ext}"
    path.write_bytes(b"x" * 100)
    return RecordFile.objects.create(
        app=tenant.app,
        task=task,
        domain="push.tv",
        app_name="live",
        stream_name=stream,
        format=fmt,
        start_time=start,
        end_time=start + timedelta(seconds=10),
        duration=10.0,
        size=100,
        status="stored",
        name=name,
        object_key=f"app/{name}.{ext}",
        local_path=str(path),
        **fields,
    )


@pytest.mark.django_db
class TestFilesAPI:
    def test_list_shows_own_files_with_spec_fields(self, tenant: Tenant, other_tenant: Tenant, media: Path) -> None:
        own = make_file(tenant, media)
        make_file(other_tenant, media, stream="theirs")
        body = tenant.client.get(URL).json()
        assert body["count"] == 1
        row = body["results"][0]
        assert row["id"] == own.public_id and len(row["id"]) == 16
        assert row["task"] == own.task.public_id
        for field in (
            "domain",
            "app_name",
            "stream_name",
            "format",
            "start_time",
            "end_time",
            "duration",
            "size",
            "status",
            "url",
            "object_key",
            "expire_at",
            "video_codec",
            "audio_codec",
            "width",
            "height",
        ):
            assert field in row

    def test_another_apps_file_is_404_and_no_key_401(
        self, tenant: Tenant, other_tenant: Tenant, anon: Any, media: Path
    ) -> None:
        theirs = make_file(other_tenant, media)
        assert tenant.client.get(f"{URL}{theirs.public_id}/").status_code == 404
        assert tenant.client.delete(f"{URL}{theirs.public_id}/").status_code == 404
        assert anon.get(URL).status_code == 401
        assert Path(theirs.local_path).exists()

    def test_filters(self, tenant: Tenant, media: Path) -> None:
        make_file(tenant, media, fmt="mp4", stream="a", minutes=0)
        make_file(tenant, media, fmt="flv", stream="b", minutes=10)
        make_file(tenant, media, fmt="hls", stream="c", minutes=20)

        def streams(**query: Any) -> list[str]:
            return sorted(r["stream_name"] for r in tenant.client.get(URL, query).json()["results"])

        assert streams(format="flv") == ["b"]
        assert streams(format=["flv", "hls"]) == ["b", "c"]
        assert streams(stream_name="a,c") == ["a", "c"]
        assert streams(start_time_after=(T0 + timedelta(minutes=5)).isoformat()) == ["b", "c"]
        assert streams(start_time_before=(T0 + timedelta(minutes=5)).isoformat()) == ["a"]
        assert streams(name_prefix="c_") == ["c"]
        cut = int((T0 + timedelta(minutes=5)).timestamp())
        assert streams(start_time_after=cut) == ["b", "c"]
        assert streams(start_time_after=str(cut + 0.5), start_time_before=cut + 600) == ["b"]
        assert streams(status="expired") == []
        assert tenant.client.get(URL, {"format": "avi"}).status_code == 400

    def test_the_url_downloads_the_file_until_it_expires(self, tenant: Tenant, media: Path) -> None:
        record = make_file(tenant, media)
        url = tenant.client.get(f"{URL}{record.public_id}/").json()["url"]
        assert url.startswith("http://testserver/files/dl/")
        response = Client().get(url.replace("http://testserver", ""))
        assert response.status_code == 200 and b"".join(response.streaming_content) == b"x" * 100
        assert response["Content-Type"] == "video/mp4"
        expired = file_download_url(record, ttl=-10)
        assert Client().get(expired).status_code == 404
        assert Client().get(url.replace("http://testserver", "")[:-8] + "xx.mp4").status_code == 404

    def test_hls_segments_download_beside_their_playlist(self, tenant: Tenant, media: Path) -> None:
        record = make_file(tenant, media, fmt="hls", stream="h")
        (media / "h_0_0.ts").write_bytes(b"seg")
        url = file_download_url(record)
        base = url.rsplit("/", 1)[0]
        assert Client().get(f"{base}/h_0_0.ts").status_code == 200
        assert Client().get(f"{base}/other_0.ts").status_code == 404
        # Renamed at its end, a playlist lists segments named when it started (issue 16 item 12): those are served.
        (media / "other_0.ts").write_bytes(b"seg")
        Path(record.local_path).write_text("#EXTM3U\n#EXTINF:2.0,\nother_0.ts\n#EXT-X-ENDLIST\n")
        assert Client().get(f"{base}/other_0.ts").status_code == 200
        assert Client().get(f"{base}/other_1.ts").status_code == 404

    def test_delete_removes_the_stored_object(self, tenant: Tenant, media: Path) -> None:
        record = make_file(tenant, media)
        assert tenant.client.delete(f"{URL}{record.public_id}/").status_code == 204
        assert not Path(record.local_path).exists()
        assert not RecordFile.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db
def test_sessions_api_warns_when_the_gop_is_longer_than_a_file(tenant: Tenant, other_tenant: Tenant) -> None:
    session = PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name="s",
        started_at=T0,
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/s",
        gop_seconds=12.0,
        video_codec="h264",
    )
    RecordTask.objects.create(
        app=tenant.app,
        kind="rule",
        domain="push.tv",
        app_name="live",
        stream_name="s",
        session=session,
        formats={"mp4": {"record_interval": 10, "storage_time": 0}},
    )
    body = tenant.client.get("/api/v1/sessions/").json()
    assert body["count"] == 1
    assert body["results"][0]["warnings"] == ["keyframe interval 12.0 s is longer than the mp4 file length 10 s"]
    assert other_tenant.client.get(f"/api/v1/sessions/{session.public_id}/").status_code == 404
    assert tenant.client.get("/api/v1/sessions/", {"status": "ended"}).json()["count"] == 0


@pytest.mark.django_db
def test_filters_refuse_nul_and_accept_any_iso_offset(tenant: Tenant, media: Path) -> None:
    make_file(tenant, media)
    response = tenant.client.get(URL, {"stream_name": "a\x00b"})
    assert response.status_code == 400
    assert response.json()["errors"]["stream_name"] == ["must not contain NUL characters"]
    # ISO 8601 allows offsets PostgreSQL does not (±15:59 at most): they are moved to UTC first.
    response = tenant.client.get(URL, {"start_time_after": "0089-01-23T18:51:53+21:52"})
    assert (response.status_code, response.json()["count"]) == (200, 1)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["start_time_after", "start_time_before", "created_after", "expire_at_before"])
def test_a_bad_time_filter_is_400_naming_the_filter(tenant: Tenant, name: str) -> None:
    response = tenant.client.get(URL, {name: "yesterday"})
    reason = "must be an ISO 8601 time with offset or unix seconds"
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_parameter", "message": f"{name} {reason}", "errors": {name: [reason]}}
