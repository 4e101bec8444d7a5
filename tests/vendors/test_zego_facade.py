"""The ZEGO facade: signature checks, envelope, parameter refusals naming the field, and the task life cycle
(without pushes: tests/e2e/test_zego_push.py records a room), with the server's clock injected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from liverecord.models import App
from rooms.models import CloudRecording
from rules.models import Domain, StorageTarget
from tests.vendors.zego_signer import post, signed_query
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create, vendor_key_revoke
from vendors.zego import views

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
STORAGE = {
    "Vendor": 10,
    "Bucket": "zego-bucket",
    "EndPoint": "http://s3.example.com",
    "AccessKeyId": "AK",
    "AccessKeySecret": "SK",
}


def start_body(**input_params: Any) -> dict[str, Any]:
    return {
        "RoomId": "room1",
        "RecordInputParams": {"RecordMode": 1, **input_params},
        "RecordOutputParams": {"OutputFileFormat": "mp4"},
        "StorageParams": STORAGE,
    }


@pytest.fixture
def made(db: None, monkeypatch: pytest.MonkeyPatch) -> NewVendorKey:
    monkeypatch.setattr(views, "clock", lambda: NOW)
    app = App.objects.create(name="zg")
    Domain.objects.create(app=app, name="push.example.com")
    return vendor_key_create(app=app, vendor=Vendor.ZEGO)


def call(made: NewVendorKey, action: str, body: Any, *, timestamp: int = TS, secret: str | None = None) -> Any:
    response = post(Client(), made.key.key_id, secret or made.secret, action, body, timestamp=timestamp)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    answer = response.json()
    assert len(answer["RequestId"]) == 32 and isinstance(answer["Code"], int)
    return answer


@pytest.mark.parametrize(("skew", "code"), [(-600, 1001), (600, 1001), (601, 100000004), (-601, 100000004)])
def test_the_timestamp_window_is_ten_minutes(made: NewVendorKey, skew: int, code: int) -> None:
    # 1001: the signature passed and the (unknown) task was looked up.
    assert call(made, "DescribeRecordStatus", {"TaskId": "X" * 16}, timestamp=TS + skew)["Code"] == code


def test_a_wrong_secret_an_unknown_or_revoked_app_id_and_bad_common_parameters_get_zego_codes(
    made: NewVendorKey,
) -> None:
    assert call(made, "StopRecord", {"TaskId": "x"}, secret="0" * 32)["Code"] == 100000005
    vendor_key_revoke(key=made.key, now=NOW)
    assert call(made, "StopRecord", {"TaskId": "x"})["Code"] == 100000010
    client = Client()
    good = signed_query("12345", "s", "StartRecord", timestamp=TS)
    cases = {
        good.replace("AppId=12345", "AppId=abc"): 100000001,
        good.replace("AppId=12345", "AppId=4294967296"): 100000001,
        good.replace(f"Timestamp={TS}", "Timestamp="): 100000002,
        good.replace(f"Timestamp={TS}", "Timestamp=soon"): 100000003,
        good.replace("Action=StartRecord", "Action="): 100000006,
        good.replace("Action=StartRecord", "Action=PauseRecord"): 100000007,
        good.replace("SignatureVersion=2.0", "SignatureVersion=1.0"): 100000014,
        good.replace("SignatureVersion=2.0", "SignatureVersion="): 100000013,
        good: 100000010,  # an AppId no key has
    }
    for query, code in cases.items():
        assert client.post(f"/zego/?{query}", "{}", content_type="application/json").json()["Code"] == code, query


def test_a_task_starts_idle_is_described_stopped_once_and_reuses_its_storage_target(made: NewVendorKey) -> None:
    started = call(made, "StartRecord", start_body(StreamType=1, MaxIdleTime=60, RecordStreamList=[{"StreamId": "a"}]))
    assert (started["Code"], started["Message"]) == (0, "succeed")
    task_id = started["Data"]["TaskId"]
    assert len(task_id) == 16
    recording = CloudRecording.objects.get(public_id=task_id)
    assert (recording.room_id, recording.domain.name, recording.stream_type) == ("room1", "push.example.com", "audio")
    assert (recording.max_idle_time, recording.subscribe_audio, recording.formats["mp4"]["record_interval"]) == (
        60,
        ["a"],
        43200,
    )
    target = recording.storage
    assert target is not None and (target.provider, target.bucket, target.path_style) == ("s3", "zego-bucket", True)
    assert target.secret_access_key == "SK"
    data = call(made, "DescribeRecordStatus", {"TaskId": task_id})["Data"]
    assert (data["Status"], data["RoomId"], data["RecordMode"], data["StreamType"]) == (1, "room1", 1, 1)
    assert data["RecordBeginTimestamp"] == TS * 1000 and "RecordFiles" not in data
    assert call(made, "StartRecord", start_body())["Code"] == 1003, "one running recording per room"
    assert call(made, "StopRecord", {"TaskId": task_id}) == {"Code": 0, "Message": "succeed", "RequestId": ANY}
    assert call(made, "DescribeRecordStatus", {"TaskId": task_id})["Data"]["Status"] == 3
    assert call(made, "StopRecord", {"TaskId": task_id})["Code"] == 1002
    again = call(made, "StartRecord", start_body())["Data"]["TaskId"]
    assert CloudRecording.objects.get(public_id=again).storage == target
    assert StorageTarget.objects.filter(app=made.key.app).count() == 1
    other = call(
        made, "StartRecord", {**start_body(), "RoomId": "room2", "StorageParams": {**STORAGE, "AccessKeyId": "B"}}
    )
    assert other["Code"] == 0 and StorageTarget.objects.filter(app=made.key.app).count() == 2


class _Any:
    def __eq__(self, other: object) -> bool:
        return True


ANY = _Any()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**start_body(), "RoomId": None}, "`RoomId`"),
        ({**start_body(), "RoomId": "bad room!"}, "`RoomId`"),
        (start_body(RecordMode=2), "`RecordInputParams.RecordMode`"),
        (start_body(MixConfig={"MixMode": 2}), "`RecordInputParams.MixConfig`"),
        (start_body(StreamType=5), "`RecordInputParams.StreamType`"),
        (start_body(MaxIdleTime=4), "`RecordInputParams.MaxIdleTime`"),
        (start_body(MaxRecordTime=299), "`RecordInputParams.MaxRecordTime`"),
        (start_body(FillBlank=True), "`RecordInputParams.FillBlank`"),
        (start_body(RecordStreamList=[{}]), "`RecordInputParams.RecordStreamList[0].StreamId`"),
        ({**start_body(), "RecordOutputParams": {"OutputFileFormat": "avi"}}, "`RecordOutputParams.OutputFileFormat`"),
        ({**start_body(), "RecordOutputParams": {"SnapshotInterval": 4}}, "`RecordOutputParams.SnapshotInterval`"),
        ({**start_body(), "StorageParams": {**STORAGE, "Vendor": 2}}, "`StorageParams.Vendor`"),
        ({**start_body(), "StorageParams": {**STORAGE, "Vendor": 5}}, "`StorageParams.Vendor`"),
        ({**start_body(), "StorageParams": {**STORAGE, "EndPoint": None}}, "`StorageParams.EndPoint`"),
        ({**start_body(), "StorageParams": {**STORAGE, "Bucket": "No_Such"}}, "`StorageParams.Bucket`"),
        ({**start_body(), "StorageParams": None}, "`StorageParams`"),
    ],
)
def test_bad_start_parameters_get_the_invalid_parameter_code_naming_the_field(
    made: NewVendorKey, body: dict[str, Any], field: str
) -> None:
    answer = call(made, "StartRecord", body)
    assert answer["Code"] == 2 and field in answer["Message"], answer
    assert not CloudRecording.objects.exists()


def test_update_layout_and_unknown_tasks(made: NewVendorKey) -> None:
    task_id = call(made, "StartRecord", start_body())["Data"]["TaskId"]
    answer = call(made, "UpdateLayout", {"TaskId": task_id, "MixMode": 2})
    assert answer["Code"] == 2 and "`TaskId`" in answer["Message"]
    assert call(made, "UpdateLayout", {"TaskId": "nope"})["Code"] == 1001
    assert call(made, "StopRecord", {})["Code"] == 2
    assert call(made, "StopRecord", b"{not json")["Code"] == 100000012


def test_output_formats_mute_split_and_cos_storage_map_onto_the_recording(made: NewVendorKey) -> None:
    cos = {
        "Vendor": 3,
        "Region": "ap-guangzhou",
        "Bucket": "rec-1250000000",
        "AccessKeyId": "A",
        "AccessKeySecret": "S",
    }
    shots = call(
        made,
        "StartRecord",
        {
            **start_body(),
            "RecordOutputParams": {"OutputFileFormat": "jpg", "SnapshotInterval": 5},
            "StorageParams": cos,
        },
    )
    recording = CloudRecording.objects.get(public_id=shots["Data"]["TaskId"])
    assert (recording.formats, recording.snapshot) == ({}, {"interval": 5})
    assert recording.storage is not None and (recording.storage.provider, recording.storage.region) == (
        "cos",
        "ap-guangzhou",
    )
    mp3 = call(
        made,
        "StartRecord",
        {
            **start_body(StreamType=1, RecordMuteAudio=2, RecordMuteAudioSplitThreshold=5),
            "RoomId": "room2",
            "RecordOutputParams": {"OutputFileFormat": "mp3"},
        },
    )
    recording = CloudRecording.objects.get(public_id=mp3["Data"]["TaskId"])
    assert recording.mute_audio == {"skip": True, "split_after": 5} and list(recording.formats) == ["mp3"]
    refused = call(
        made,
        "StartRecord",
        {**start_body(StreamType=1), "RoomId": "room3", "RecordOutputParams": {"OutputFileFormat": "jpg"}},
    )
    assert refused["Code"] == 2 and "`RecordOutputParams.OutputFileFormat`" in refused["Message"]
    muted_mp4 = call(made, "StartRecord", {**start_body(RecordMuteAudio=2), "RoomId": "room4"})
    assert muted_mp4["Code"] == 2 and "`RecordInputParams.RecordMuteAudio`" in muted_mp4["Message"]
