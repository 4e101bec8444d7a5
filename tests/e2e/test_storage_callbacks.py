"""A push recorded into S3 on loopback (moto), announced by signed callbacks to a real receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from liverecord.models import App
from recordings.choices import CallbackEvent, FileStatus
from recordings.models import RecordFile
from rules.models import Domain, RecordRule, StorageTarget
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.support.hook_receiver import HookReceiver
from tests.support.media import push_generated
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server, start_s3_server
from workers.callbacks import SIGNATURE_HEADER, verify_signature

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEY = "e2e-callback-key"


@pytest.fixture
def s3() -> Iterator[S3Server]:
    server = start_s3_server()
    server.client().create_bucket(Bucket="e2e-recordings")  # type: ignore[attr-defined]
    yield server
    server.server.stop()


def test_a_push_lands_in_s3_and_every_event_is_signed(ingest: Any, s3: S3Server) -> None:
    app = App.objects.create(name="e2e-s3")
    target = StorageTarget.objects.create(
        app=app,
        name="s3",
        provider="s3",
        bucket="e2e-recordings",
        region="us-east-1",
        endpoint_url=s3.endpoint_url,
        path_style=True,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        prefix="live",
    )
    with HookReceiver(status=200) as receiver:
        Domain.objects.create(
            app=app, name="127.0.0.1", storage=target, callback_url=receiver.url("/cb"), callback_key=KEY
        )
        template = RecordTemplate.objects.create(
            app=app, name="t", mp4_enabled=True, mp4_record_interval=3600, hls_enabled=True
        )
        RecordRule.objects.create(app=app, template=template)
        publisher = push_generated(ingest.rtmp_url("cloud"), seconds=14)
        client = s3.client()

        def live_playlist() -> str | None:
            listed = client.list_objects_v2(Bucket="e2e-recordings", Prefix="live/").get("Contents", [])  # type: ignore[attr-defined]
            keys = [o["Key"] for o in listed]
            playlists = [k for k in keys if k.endswith(".m3u8")]
            return playlists[0] if playlists and any(k.endswith(".ts") for k in keys) else None

        key = wait_until(live_playlist, 12, "the HLS playlist in storage while the push is live")
        assert publisher.poll() is None, "uploaded while the push was still live"
        text = client.get_object(Bucket="e2e-recordings", Key=key)["Body"].read().decode()  # type: ignore[attr-defined]
        assert "#EXTINF" in text and "#EXT-X-ENDLIST" not in text
        assert publisher.wait(timeout=30) == 0
        wait_until(lambda: RecordFile.objects.filter(status=FileStatus.STORED).count() == 2, 40, "two stored files")

        def events() -> dict[int, list[dict[str, Any]]]:
            found: dict[int, list[dict[str, Any]]] = {}
            for request in receiver.requests:
                assert verify_signature(
                    request.body, request.headers[SIGNATURE_HEADER.lower()], key=KEY, now=int(time.time())
                )
                body = json.loads(request.body)
                found.setdefault(body["event_type"], []).append(body)
            return found

        got = wait_until(
            lambda: (e := events()) and len(e.get(CallbackEvent.FILE_STORED, [])) == 2 and e, 20, "callbacks"
        )
    assert len(got[CallbackEvent.PUSH_STARTED]) == 1 and len(got[CallbackEvent.PUSH_ENDED]) == 1
    assert got[CallbackEvent.PUSH_ENDED][0]["push_duration"] > 5000
    stored = {o["Key"]: o["Size"] for o in client.list_objects_v2(Bucket="e2e-recordings")["Contents"]}  # type: ignore[attr-defined]
    assert sum(stored.values()) == sum(r.size for r in RecordFile.objects.all()), "every byte of every file is stored"
    for body in got[CallbackEvent.FILE_STORED]:
        record = RecordFile.objects.get(public_id=body["file_id"])
        assert record.object_key in stored and record.local_path == ""
        downloaded = requests.get(body["video_url"], timeout=10).content
        if record.format == "mp4":
            assert len(downloaded) == record.size and downloaded[4:8] == b"ftyp"
        else:
            segments = [line for line in downloaded.decode().splitlines() if line and not line.startswith("#")]
            assert segments and all(f"live/{name}" in stored for name in segments)
            assert downloaded.decode().rstrip().endswith("#EXT-X-ENDLIST")
