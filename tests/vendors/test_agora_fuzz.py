"""Authenticated requests with random bodies and path segments never get a 5xx from the Agora facade."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from liverecord.models import App
from rules.models import Domain
from tests.vendors.agora_client import Agora
from vendors.choices import Vendor
from vendors.services import vendor_key_create

ROOM = "fuzzroom"
ROOMS = count()
#: Every field name the facade reads, so random bodies reach the checks past the first one.
NAMES = [
    "cname", "uid", "clientRequest", "resourceExpiredHour", "scene", "token", "recordingConfig", "channelType",
    "streamTypes", "decryptionMode", "audioProfile", "videoStreamType", "maxIdleTime", "subscribeAudioUids",
    "subscribeVideoUids", "unSubscribeAudioUids", "unSubscribeVideoUids", "subscribeUidGroup", "transcodingConfig",
    "recordingFileConfig", "avFileType", "snapshotConfig", "captureInterval", "fileType", "storageConfig", "vendor",
    "region", "bucket", "accessKey", "secretKey", "fileNamePrefix", "extensionParams", "endpoint", "streamSubscribe",
    "audioUidList", "videoUidList", "async_stop", "mixedVideoLayout",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 3, 5, 11, 30, 720, 3600, 2**32]),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from([ROOM, "527841", "#allstream#", "hls", "mp4", "jpg", "http://127.0.0.1:9", "bucket-1", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=5),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(NAMES), values, max_size=8) | values
segments = st.one_of(st.sampled_from(["individual", "mix", "web", "", "x" * 300]), st.text(min_size=1, max_size=20))
statuses: dict[int, int] = {}
ACTIONS = ["acquire", "start", "query", "update", "updateLayout", "stop"]


@pytest.fixture
def api(db: None, settings: Any) -> Agora:
    settings.LIVEREC_API_RATE = "100000/s"
    app = App.objects.create(name="fuzz")
    Domain.objects.create(app=app, name="push.example.com")
    return Agora(vendor_key_create(app=app, vendor=Vendor.AGORA))


def _path(api: Agora, room: str, action: str, mode: str, sid: str | None) -> str:
    rid = api.acquire(room)
    if action == "start":
        return f"resourceid/{rid}/mode/{mode}/start"
    if sid is None:
        started = api.start(rid, room, {})
        sid = started.json().get("sid", "0123456789abcdef")
    return f"resourceid/{rid}/sid/{sid}/mode/{mode}/{action}"


@hypothesis_settings(
    max_examples=250, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    action=st.sampled_from(ACTIONS),
    body=bodies,
    mode=st.one_of(st.just("individual"), segments),
    sid=st.one_of(st.none(), segments),
    wrap=st.booleans(),
)
def test_random_bodies_get_agora_answers(
    api: Agora, action: str, body: Any, mode: str, sid: str | None, wrap: bool
) -> None:
    room = f"{ROOM}{next(ROOMS)}"  # a fresh room each time, so that starts reach the recordings
    if wrap and isinstance(body, dict):
        body = {"cname": room, "uid": "527841", "clientRequest": body}
    path = "acquire" if action == "acquire" else _path(api, room, action, mode, sid)
    response = api.get(path) if action == "query" else api.post(path, body)
    assert response.status_code < 500, (action, path, body, response.content)
    answer = response.json()
    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert isinstance(answer, dict) and ("code" in answer or "message" in answer or response.status_code < 300)


def test_the_fuzz_reached_successes_and_refusals() -> None:
    """Run after the fuzz (same module): random bodies must reach both the actions and their checks."""
    if not statuses:
        pytest.skip("the fuzz did not run in this session")
    assert statuses.get(200, 0) + statuses.get(206, 0) > 10 and statuses.get(400, 0) > 10, statuses
