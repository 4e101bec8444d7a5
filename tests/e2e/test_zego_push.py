"""ZEGO's server API drives a real room recording: StartRecord signed as ZEGO's documentation says, two ffmpeg
pushes through nginx-rtmp (one in RecordStreamList), DescribeRecordStatus while recording, StopRecord, and the
file found in S3 (moto) through its FileUrl and checked with ffprobe."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from liverecord.models import App
from rules.models import Domain
from tests.e2e.conftest import wait_until
from tests.support.media import probe, push_generated
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server, start_s3_server
from tests.vendors.zego_signer import signed_query
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOM = "zego-room"
BUCKET = "zego-recordings"


@pytest.fixture
def s3() -> Iterator[S3Server]:
    server = start_s3_server()
    server.client().create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
    yield server
    server.stop()


def zego(live_server: Any, made: NewVendorKey, action: str, body: dict[str, Any]) -> dict[str, Any]:
    query = signed_query(made.key.key_id, made.secret, action, timestamp=int(time.time()))
    answer = requests.post(f"{live_server.url}/zego/?{query}", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_start_describe_stop_and_the_file_through_zego_calls(
    live_server: Any, ingest: Any, beat: Any, s3: S3Server, tmp_path: Path
) -> None:
    """The beat turns the stopped task finished once its last file is made (``stopping`` is still Status 2)."""
    app = App.objects.create(name="zego-e2e")
    Domain.objects.create(app=app, name="127.0.0.1")
    made = vendor_key_create(app=app, vendor=Vendor.ZEGO)
    started = zego(
        live_server,
        made,
        "StartRecord",
        {
            "RoomId": ROOM,
            "RecordInputParams": {"RecordMode": 1, "StreamType": 3, "RecordStreamList": [{"StreamId": "alice"}]},
            "RecordOutputParams": {"OutputFileFormat": "mp4"},
            "StorageParams": {
                "Vendor": 10,
                "Region": "us-east-1",
                "Bucket": BUCKET,
                "EndPoint": s3.endpoint_url,
                "AccessKeyId": ACCESS_KEY,
                "AccessKeySecret": SECRET_KEY,
            },
        },
    )
    assert started["Code"] == 0, started
    task = {"TaskId": started["Data"]["TaskId"]}
    assert zego(live_server, made, "DescribeRecordStatus", task)["Data"]["Status"] == 1, "idle: nobody publishes"
    alice = push_generated(ingest.rtmp_url("alice", query=f"room={ROOM}&user=u1"), seconds=12)
    bob = push_generated(ingest.rtmp_url("bob", query=f"room={ROOM}&user=u2"), seconds=12)
    wait_until(
        lambda: zego(live_server, made, "DescribeRecordStatus", task)["Data"]["Status"] == 2, 15, "recording (2)"
    )
    time.sleep(5)
    stopped = zego(live_server, made, "StopRecord", task)
    assert (stopped["Code"], stopped["Message"]) == (0, "succeed")
    assert zego(live_server, made, "StopRecord", task)["Code"] == 1002, "a repeated stop"
    for publisher in (alice, bob):
        assert publisher.wait(timeout=30) == 0

    def stored() -> dict[str, Any] | None:
        data = zego(live_server, made, "DescribeRecordStatus", task)["Data"]
        files = data.get("RecordFiles", [])
        return data if data["Status"] == 3 and files and all(f["Status"] == 3 for f in files) else None

    data = wait_until(stored, 40, "the task finished (3) and its files stored (3)")
    (record_file,) = data["RecordFiles"]
    assert (record_file["StreamId"], record_file["UserId"], record_file["OutputFileFormat"]) == ("alice", "u1", "mp4")
    assert record_file["MediaTrackType"] == 3 and record_file["FileSize"] > 0
    assert 3000 <= record_file["Duration"] <= 11000, "in milliseconds: from the join to the stop"
    assert data["RecordEndTimestamp"] >= data["RecordBeginTimestamp"] > 0
    downloaded = requests.get(record_file["FileUrl"], timeout=10)
    assert downloaded.status_code == 200 and s3.endpoint_url in record_file["FileUrl"]
    path = tmp_path / "alice.mp4"
    path.write_bytes(downloaded.content)
    kinds = sorted(s["codec_type"] for s in probe(path)["streams"])
    assert kinds == ["audio", "video"]
    assert abs(float(probe(path)["format"]["duration"]) * 1000 - record_file["Duration"]) < 1000
