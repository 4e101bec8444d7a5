"""Agora's REST calls, made with requests and Basic auth as a user's code makes them (Agora has no official
Python SDK), record a room of two real ffmpeg pushes through nginx-rtmp: acquire, start in individual mode,
query, an update of the subscriptions mid-push, stop with the file list; the files checked with ffprobe."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from liverecord.services import app_create
from rules.models import Domain
from tests.e2e.conftest import settled_files, wait_until
from tests.support.media import probe, push_generated
from vendors.choices import Vendor
from vendors.services import vendor_key_create

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOM = "agora7"
RECORDER_UID = "527841"


def _kinds(path: str) -> list[str]:
    return sorted(s["codec_type"] for s in probe(path)["streams"])


def test_an_agora_client_records_a_room_of_real_pushes(live_server: Any, ingest: Any) -> None:
    app, _ = app_create(name="agora-e2e")
    Domain.objects.create(app=app, name="127.0.0.1")
    made = vendor_key_create(app=app, vendor=Vendor.AGORA)
    agora = requests.Session()
    agora.auth = (made.key.key_id, made.secret)
    base = f"{live_server.url}/agora/v1/apps/{made.key.vendor_app_id}/cloud_recording"
    who = {"cname": ROOM, "uid": RECORDER_UID}

    alice = push_generated(ingest.rtmp_url("alice", query=f"room={ROOM}&user=1001"), seconds=12)
    bob = push_generated(ingest.rtmp_url("bob", query=f"room={ROOM}&user=1002"), seconds=12)
    time.sleep(2)
    rid = agora.post(f"{base}/acquire", json={**who, "clientRequest": {}}, timeout=10).json()["resourceId"]
    config = {"subscribeAudioUids": ["#allstream#"], "subscribeVideoUids": ["1001", "1002"], "maxIdleTime": 30}
    client_request = {"recordingConfig": config, "recordingFileConfig": {"avFileType": ["hls", "mp4"]}}
    started = agora.post(
        f"{base}/resourceid/{rid}/mode/individual/start", json={**who, "clientRequest": client_request}, timeout=10
    )
    assert started.status_code == 200, started.text
    sid = started.json()["sid"]
    assert started.json() == {**who, "resourceId": rid, "sid": sid}
    session = f"{base}/resourceid/{rid}/sid/{sid}/mode/individual"
    again = agora.post(f"{base}/resourceid/{rid}/mode/individual/start", json={**who, "clientRequest": {}}, timeout=10)
    assert (again.status_code, again.json()["code"]) == (400, 7)

    queried = agora.get(f"{session}/query", timeout=10)
    assert queried.status_code == 200 and queried.json()["serverResponse"]["status"] == 5, queried.text
    time.sleep(3)
    # Bob's video is dropped from now on: his first file ends here and an audio-only one follows.
    update = {"streamSubscribe": {"videoUidList": {"unSubscribeVideoUids": ["1002"]}}}
    updated = agora.post(f"{session}/update", json={**who, "clientRequest": update}, timeout=10)
    assert updated.status_code == 200, updated.text
    listed = wait_until(
        lambda: agora.get(f"{session}/query", timeout=10).json()["serverResponse"]["fileList"], 30, "bob's first file"
    )
    assert {f["uid"] for f in listed} == {"1002"} and all(f["mixedAllUser"] == "false" for f in listed)
    for publisher in (alice, bob):
        assert publisher.wait(timeout=30) == 0
    files = settled_files(30, count=3, task__cloud_recording_id=sid, format="mp4")

    stopped = agora.post(f"{session}/stop", json={**who, "clientRequest": {}}, timeout=10)
    assert stopped.status_code == 200, stopped.text
    answer = stopped.json()["serverResponse"]
    mp4s = sorted((f for f in answer["fileList"] if f["filename"].endswith(".mp4")), key=lambda f: f["sliceStartTime"])
    assert [(f["uid"], f["isPlayable"]) for f in mp4s if f["uid"] == "1001"] == [("1001", True)]
    assert [f["trackType"] for f in mp4s if f["uid"] == "1002"] == ["audio_and_video", "audio"]
    assert answer["fileListMode"] == "json" and answer["uploadingStatus"] in ("uploaded", "unknown")
    by_user = {}
    for f in sorted(files, key=lambda f: f.start_time):
        by_user.setdefault(f.task.user_id, []).append(f)
    assert _kinds(by_user["1001"][0].local_path) == ["audio", "video"]
    assert [_kinds(f.local_path) for f in by_user["1002"]] == [["audio", "video"], ["audio"]]

    repeated = agora.post(f"{session}/stop", json={**who, "clientRequest": {}}, timeout=10)
    assert (repeated.status_code, repeated.json()["code"]) == (400, 49)
    gone = agora.get(f"{session}/query", timeout=10)
    assert gone.status_code == 404 and gone.json()["code"] == 404
    unknown = agora.get(f"{base}/resourceid/{rid}/sid/0123456789abcdef/mode/individual/query", timeout=10)
    assert (unknown.status_code, unknown.json()["code"]) == (404, 404)
    wrong = requests.post(f"{base}/acquire", json=who, auth=(made.key.key_id, "wrong"), timeout=10)
    assert (wrong.status_code, wrong.json()) == (401, {"message": "Invalid authentication credentials"})
