"""The Agora facade's auth, identifiers, translation onto cloud recordings and error codes (no push needed)."""

from __future__ import annotations

from typing import Any

import pytest

from liverecord.models import App
from rooms.models import CloudRecording
from rules.models import Domain, StorageTarget
from tests.vendors.agora_client import Agora
from vendors.agora import resources
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create, vendor_key_revoke

ROOM = "class9"
HLS_MP4 = {"recordingFileConfig": {"avFileType": ["hls", "mp4"]}}


@pytest.fixture
def made(db: None) -> NewVendorKey:
    app = App.objects.create(name="ag")
    Domain.objects.create(app=app, name="push.example.com")
    return vendor_key_create(app=app, vendor=Vendor.AGORA)


@pytest.fixture
def api(made: NewVendorKey) -> Agora:
    return Agora(made)


def started(api: Agora, client_request: Any = HLS_MP4, cname: str = ROOM) -> tuple[str, str]:
    rid = api.acquire(cname)
    response = api.start(rid, cname, client_request)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["cname"], body["uid"], body["resourceId"]) == (cname, "527841", rid)
    return rid, body["sid"]


def test_start_maps_onto_a_single_mode_cloud_recording_of_the_keys_domain(api: Agora, made: NewVendorKey) -> None:
    config = {"maxIdleTime": 60, "streamTypes": 0, "subscribeAudioUids": ["#allstream#"]}
    _, sid = started(api, {**HLS_MP4, "recordingConfig": config, "snapshotConfig": {"captureInterval": 15}})
    recording = CloudRecording.objects.get(public_id=sid)
    assert (recording.app, recording.domain.name, recording.room_id) == (made.key.app, "push.example.com", ROOM)
    assert (recording.mode, recording.stream_type, recording.max_idle_time) == ("single", "audio", 60)
    assert recording.subscribe_audio is None, "#allstream# means every stream"
    assert set(recording.formats) == {"hls", "mp4"} and recording.snapshot == {"interval": 15}


def test_defaults_are_agoras_hls_every_stream_and_30_s_idle(api: Agora) -> None:
    _, sid = started(api, {})
    recording = CloudRecording.objects.get(public_id=sid)
    assert (list(recording.formats), recording.stream_type, recording.max_idle_time) == (["hls"], "audio_video", 30)
    assert recording.subscribe_audio is recording.subscribe_video is None


def test_uids_select_users_and_only_a_video_list_records_no_audio(api: Agora) -> None:
    _, sid = started(api, {**HLS_MP4, "recordingConfig": {"subscribeVideoUids": ["1001", "1002"]}})
    recording = CloudRecording.objects.get(public_id=sid)
    assert recording.subscribe_video == ["1001", "1002"] and recording.stream_type == "video"


def test_query_update_and_stop_then_404_and_49(api: Agora) -> None:
    rid, sid = started(api)
    session = f"resourceid/{rid}/sid/{sid}/mode/individual"
    queried = api.get(f"{session}/query")
    assert queried.status_code == 200, queried.content
    assert queried.json()["serverResponse"] == {
        "fileListMode": "json",
        "fileList": [],
        "status": 4,
        "sliceStartTime": queried.json()["serverResponse"]["sliceStartTime"],
    }
    update = {"streamSubscribe": {"audioUidList": {"unSubscribeAudioUids": ["1003"]}}}
    updated = api.post(f"{session}/update", {"cname": ROOM, "uid": "527841", "clientRequest": update})
    assert updated.status_code == 200, updated.content
    assert CloudRecording.objects.get(public_id=sid).unsubscribe_audio == ["1003"]
    stopped = api.post(f"{session}/stop", {"cname": ROOM, "uid": "527841", "clientRequest": {}})
    assert stopped.status_code == 206, "nobody published: Agora's 206"
    assert stopped.json()["serverResponse"]["fileList"] == []
    again = api.post(f"{session}/stop", {"cname": ROOM, "uid": "527841", "clientRequest": {}})
    assert (again.status_code, again.json()["code"]) == (400, 49)
    gone = api.get(f"{session}/query")
    assert (gone.status_code, gone.json()["code"]) == (404, 404)


def test_a_repeated_start_is_7_and_another_resource_for_a_running_room_is_53(api: Agora) -> None:
    rid, _ = started(api)
    again = api.start(rid, ROOM, HLS_MP4)
    assert (again.status_code, again.json()["code"]) == (400, 7)
    other = api.start(api.acquire(ROOM, uid="99"), ROOM, HLS_MP4, uid="99")
    assert (other.status_code, other.json()["code"]) == (400, 53)


def test_unknown_sid_is_404_and_a_foreign_resource_is_refused(api: Agora, made: NewVendorKey) -> None:
    rid, sid = started(api)
    unknown = api.get(f"resourceid/{rid}/sid/0123456789abcdef/mode/individual/query")
    assert (unknown.status_code, unknown.json()["code"]) == (404, 404)
    garbage = api.get(f"resourceid/not-a-resource/sid/{sid}/mode/individual/query")
    assert (garbage.status_code, garbage.json()["code"]) == (400, 1001)
    other_key = vendor_key_create(app=made.key.app, vendor=Vendor.AGORA)
    foreign = Agora(other_key).get(f"resourceid/{rid}/sid/{sid}/mode/individual/query")
    assert (foreign.status_code, foreign.json()["code"]) == (400, 1003)
    mismatch = api.post(f"resourceid/{rid}/sid/{sid}/mode/individual/stop", {"cname": "other", "uid": "527841"})
    assert (mismatch.status_code, mismatch.json()["code"]) == (400, 432)


def test_a_resource_older_than_five_minutes_cannot_start(api: Agora, monkeypatch: pytest.MonkeyPatch) -> None:
    rid = api.acquire(ROOM)
    monkeypatch.setattr(resources, "START_WINDOW", -1)
    response = api.start(rid, ROOM, HLS_MP4)
    assert (response.status_code, response.json()["code"]) == (400, 433)


@pytest.mark.parametrize(
    ("secret", "appid", "message"),
    [("wrong", None, "Invalid authentication credentials"), (None, "0" * 32, "invalid appid")],
)
def test_bad_credentials_are_401(made: NewVendorKey, secret: str | None, appid: str | None, message: str) -> None:
    response = Agora(made, secret=secret, appid=appid).post("acquire", {"cname": ROOM, "uid": "1"})
    assert (response.status_code, response.json()) == (401, {"message": message})


def test_a_revoked_key_and_no_auth_are_401(api: Agora, made: NewVendorKey) -> None:
    assert api.client.post(f"{api.base}/acquire", data={}, content_type="application/json").status_code == 401
    vendor_key_revoke(key=made.key)
    assert api.post("acquire", {"cname": ROOM, "uid": "1"}).status_code == 401


@pytest.mark.parametrize(
    ("client_request", "mode", "field"),
    [
        ({"recordingConfig": {"maxIdleTime": 4}}, "individual", "clientRequest.recordingConfig.maxIdleTime"),
        ({"recordingConfig": {"maxIdleTime": 86401}}, "individual", "clientRequest.recordingConfig.maxIdleTime"),
        ({"recordingConfig": {"streamTypes": 3}}, "individual", "clientRequest.recordingConfig.streamTypes"),
        ({"recordingConfig": {"subscribeAudioUids": "1"}}, "individual", "subscribeAudioUids"),
        ({"recordingConfig": {"subscribeVideoUids": ["1"], "unSubscribeVideoUids": ["2"]}}, "individual", "unSub"),
        ({"recordingFileConfig": {"avFileType": ["mp4"]}}, "individual", "avFileType"),
        ({"snapshotConfig": {"captureInterval": 4}}, "individual", "captureInterval"),
        ({"transcodingConfig": {"width": 640}}, "individual", "clientRequest.transcodingConfig"),
        ({"transcodingConfig": {"width": 640, "mixedVideoLayout": 1}}, "mix", "`mode`"),
        ({}, "web", "`mode`"),
        ({"storageConfig": {"vendor": 2, "bucket": "b", "accessKey": "a", "secretKey": "s"}}, "individual", "vendor"),
        (
            {"storageConfig": {"vendor": 11, "bucket": "b", "accessKey": "a", "secretKey": "s"}},
            "individual",
            "endpoint",
        ),
        ({"storageConfig": {"vendor": 1, "bucket": "B!", "accessKey": "a", "secretKey": "s"}}, "individual", "bucket"),
    ],
)
def test_bad_parameters_are_code_2_naming_the_field(api: Agora, client_request: Any, mode: str, field: str) -> None:
    response = api.start(api.acquire(ROOM), ROOM, client_request, mode=mode)
    assert (response.status_code, response.json()["code"]) == (400, 2), response.content
    assert field in response.json()["reason"]
    assert not CloudRecording.objects.exists()


def test_bad_identifiers_and_bodies(api: Agora) -> None:
    bad_uid = api.post("acquire", {"cname": ROOM, "uid": "0"})
    assert (bad_uid.json()["code"], "`uid`" in bad_uid.json()["reason"]) == (2, True)
    bad_cname = api.post("acquire", {"cname": "a b", "uid": "1"})
    assert bad_cname.json()["code"] == 1013
    hours = api.post("acquire", {"cname": ROOM, "uid": "1", "clientRequest": {"resourceExpiredHour": 721}})
    assert "resourceExpiredHour" in hours.json()["reason"]
    not_json = api.client.post(
        f"{api.base}/acquire", data=b"{", content_type="application/json", HTTP_AUTHORIZATION=api.auth
    )
    assert (not_json.status_code, not_json.json()["code"]) == (400, 8)
    wrong_method = api.get("acquire")
    assert (wrong_method.status_code, wrong_method.json()) == (404, {"message": "no Route matched with those values"})


def test_update_layout_is_refused_naming_the_field(api: Agora) -> None:
    rid, sid = started(api)
    for mode, field in (("mix", "updateLayout"), ("individual", "mode")):
        body = {"cname": ROOM, "uid": "527841", "clientRequest": {"mixedVideoLayout": 1}}
        response = api.post(f"resourceid/{rid}/sid/{sid}/mode/{mode}/updateLayout", body)
        assert (response.status_code, response.json()["code"]) == (400, 2)
        assert f"`{field}`" in response.json()["reason"]


def test_s3_storage_creates_a_target_once_and_reuses_it(api: Agora, made: NewVendorKey) -> None:
    storage = {
        "vendor": 11,
        "region": 0,
        "bucket": "agora-files",
        "accessKey": "AK",
        "secretKey": "SK",
        "fileNamePrefix": ["rec", "class9"],
        "extensionParams": {"endpoint": "http://127.0.0.1:9000"},
    }
    _, sid = started(api, {**HLS_MP4, "storageConfig": storage})
    target = StorageTarget.objects.get(app=made.key.app)
    assert (target.provider, target.bucket, target.endpoint_url, target.prefix) == (
        "s3", "agora-files", "http://127.0.0.1:9000", "rec/class9"
    )  # fmt: skip
    assert target.path_style and target.secret_access_key == "SK"
    assert CloudRecording.objects.get(public_id=sid).storage == target
    _, other = started(api, {**HLS_MP4, "storageConfig": storage}, cname="class10")
    assert CloudRecording.objects.get(public_id=other).storage == target
    cos = {"vendor": 3, "region": 3, "bucket": "files-1250000000", "accessKey": "a", "secretKey": "s"}
    started(api, {**HLS_MP4, "storageConfig": cos}, cname="class11")
    assert StorageTarget.objects.get(app=made.key.app, provider="cos").region == "ap-guangzhou"


def test_a_stop_after_the_idle_end_is_404_not_49(api: Agora) -> None:
    rid, sid = started(api)
    CloudRecording.objects.filter(public_id=sid).update(status="finished", reason="max_idle_time")
    response = api.post(f"resourceid/{rid}/sid/{sid}/mode/individual/stop", {"cname": ROOM, "uid": "527841"})
    assert (response.status_code, response.json()["code"]) == (404, 404)


def test_update_reads_each_medium_from_its_own_list(api: Agora) -> None:
    rid, sid = started(api, {**HLS_MP4, "recordingConfig": {"subscribeAudioUids": ["1001"]}})
    update = {"streamSubscribe": {"videoUidList": {"subscribeVideoUids": ["1002"], "subscribeAudioUids": ["9"]}}}
    body = {"cname": ROOM, "uid": "527841", "clientRequest": update}
    assert api.post(f"resourceid/{rid}/sid/{sid}/mode/individual/update", body).status_code == 200
    recording = CloudRecording.objects.get(public_id=sid)
    assert (recording.subscribe_audio, recording.subscribe_video) == (["1001"], ["1002"])
    empty = {"cname": ROOM, "uid": "527841", "clientRequest": {"streamSubscribe": {}}}
    refused = api.post(f"resourceid/{rid}/sid/{sid}/mode/individual/update", empty)
    assert (refused.json()["code"], "streamSubscribe" in refused.json()["reason"]) == (2, True)
