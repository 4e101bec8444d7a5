"""Signed requests with random bodies never get a 5xx nor an InternalError from the Tencent facade."""

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
from tests.vendors.signer import post
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create
from vendors.tencent import views

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
#: Every parameter name the actions read, so random bodies reach the actions' checks, not only the first one.
NAMES = [
    "TemplateName", "Description", "FlvParam", "HlsParam", "Mp4Param", "AacParam", "Mp3Param", "IsDelayLive",
    "HlsSpecialParam", "CosStore", "RemoveWatermark", "FlvSpecialParam", "TemplateId", "DomainName", "AppName",
    "StreamName", "StartTime", "EndTime", "RecordType", "FileFormat", "Highlight", "MixStream", "StreamParam",
    "TaskId", "StreamType", "Extension", "ScrollToken", "DomainType", "PlayType", "PageNum", "PageSize",
    "DomainStatus", "DomainPrefix", "RecordInterval", "StorageTime", "Enable", "VodFileName", "StorageMode",
    "FlowContinueDuration", "UploadInRecording", "CosBucketName",
]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 60, 1800, 7200, 43200, TS, TS + 3600, TS + 10**6]),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["push.example.com", "live", "2026-03-01 20:10:00", "record_interval=1800", "hls", "MP4", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner, max_size=5),
    max_leaves=12,
)
bodies = st.dictionaries(st.sampled_from(NAMES), values, max_size=8) | values


@pytest.fixture
def made(db: None, monkeypatch: pytest.MonkeyPatch, settings: Any) -> NewVendorKey:
    monkeypatch.setattr(views, "clock", lambda: NOW)
    settings.LIVEREC_API_RATE = "100000/s"  # every example falls in the frozen clock's one second
    made = vendor_key_create(app=App.objects.create(name="fuzz"), vendor=Vendor.TENCENT)
    Domain.objects.create(app=made.key.app, name="push.example.com")
    return made


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from([*views.ACTIONS, "NoSuchAction"]), body=bodies)
def test_random_signed_bodies_get_tencent_answers(made: NewVendorKey, action: str, body: Any) -> None:
    response = post(Client(), made.key.key_id, made.secret, action, body, timestamp=TS)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    answer = response.json()["Response"]
    assert answer["RequestId"]
    assert answer.get("Error", {}).get("Code") != "InternalError", (action, body, answer)
