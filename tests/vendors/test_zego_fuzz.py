"""Signed requests with random bodies never get a 5xx nor ZEGO's internal-error code from the ZEGO facade."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from liverecord.models import App
from rules.models import Domain
from tests.vendors.zego_signer import post
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create
from vendors.zego import errors, views

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
#: Every field name the actions read, so random bodies reach the actions' checks, not only the first one.
NAMES = [
    "RoomId", "RecordInputParams", "RecordOutputParams", "StorageParams", "TaskId", "RecordMode", "StreamType",
    "RecordStreamList", "StreamId", "FillBlank", "RecordMuteAudio", "RecordMuteAudioSplitThreshold",
    "HasWhiteboard", "Whiteboard", "MaxIdleTime", "MaxRecordTime", "MixConfig", "MixMode", "OutputFileFormat",
    "OutputFileRule", "FragmentSeconds", "SnapshotInterval", "CallbackUrl", "Vendor", "Region", "Bucket",
    "AccessKeyId", "AccessKeySecret", "EndPoint",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 3, 4, 5, 10, 30, 300, 86400, 86401]),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["room1", "mp4", "jpg", "mp3", "hls", "zego-bucket", "http://s3.example.com", "us-east-1", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=6),
    max_leaves=14,
)
VALID: dict[str, Any] = {
    "RoomId": "room1",
    "RecordInputParams": {"RecordMode": 1, "StreamType": 3, "MaxIdleTime": 30},
    "RecordOutputParams": {"OutputFileFormat": "mp4"},
    "StorageParams": {"Vendor": 10, "Bucket": "zego-bucket", "EndPoint": "http://s3.example.com",
                      "AccessKeyId": "AK", "AccessKeySecret": "SK"},
}  # fmt: skip


def _mutated(part: str, field: str, value: Any) -> dict[str, Any]:
    """A valid StartRecord body with one field of one part replaced: random values reach the deep checks."""
    body = {name: dict(v) if isinstance(v, dict) else v for name, v in VALID.items()}
    if isinstance(body[part], dict):
        body[part][field] = value
    else:
        body[part] = value
    return body


mutated = st.builds(_mutated, st.sampled_from(sorted(VALID)), st.sampled_from(NAMES), values)
bodies = st.dictionaries(st.sampled_from(NAMES), values, max_size=8) | values | mutated


@pytest.fixture
def made(db: None, monkeypatch: pytest.MonkeyPatch, settings: Any) -> NewVendorKey:
    monkeypatch.setattr(views, "clock", lambda: NOW)
    settings.LIVEREC_API_RATE = "100000/s"  # every example falls in the frozen clock's one second
    app = App.objects.create(name="zfuzz")
    Domain.objects.create(app=app, name="push.example.com")
    return vendor_key_create(app=app, vendor=Vendor.ZEGO)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from([*views.ACTIONS, "NoSuchAction"]), body=bodies)
def test_random_signed_bodies_get_zego_answers(made: NewVendorKey, action: str, body: Any) -> None:
    response = post(Client(), made.key.key_id, made.secret, action, body, timestamp=TS)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    answer = response.json()
    assert answer["RequestId"] and isinstance(answer["Code"], int)
    assert answer["Code"] != errors.INTERNAL, (action, body, answer)
