"""The Tencent facade's verification and envelope, with the server's clock injected (no wall clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from liverecord.models import App
from rules.models import Domain
from templates_app.models import RecordTemplate
from tests.vendors.signer import post, signed_headers
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create
from vendors.tencent import views

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(views, "clock", lambda: NOW)
    yield


@pytest.fixture
def made(db: None, frozen: None) -> NewVendorKey:
    return vendor_key_create(app=App.objects.create(name="tc"), vendor=Vendor.TENCENT)


def call(made: NewVendorKey, action: str, params: Any, *, timestamp: int = TS, secret: str | None = None) -> Any:
    response = post(Client(), made.key.key_id, secret or made.secret, action, params, timestamp=timestamp)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    body = response.json()["Response"]
    assert body["RequestId"]
    return body


def code(body: dict[str, Any]) -> str | None:
    return body.get("Error", {}).get("Code")


@pytest.mark.parametrize(("skew", "expected"), [(-300, None), (300, None), (-301, "AuthFailure.SignatureExpire")])
def test_the_timestamp_window_is_five_minutes(made: NewVendorKey, skew: int, expected: str | None) -> None:
    assert code(call(made, "DescribeLiveRecordRules", {}, timestamp=TS + skew)) == expected


def test_a_tampered_body_fails_the_signature(made: NewVendorKey) -> None:
    headers = signed_headers(made.key.key_id, made.secret, "DescribeLiveRecordRules", b"{}", timestamp=TS)
    response = Client().post("/", data=b'{"x": 1}', content_type="application/json", **headers)
    assert response.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"


def test_unsigned_and_malformed_requests(made: NewVendorKey) -> None:
    response = Client().post("/", data=b"{}", content_type="application/json", HTTP_X_TC_ACTION="DescribeLiveDomains")
    assert response.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure"
    response = Client().post("/", data=b"{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer x")
    assert response.json()["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"
    assert code(call(made, "DescribeLiveDomains", b"not json")) == "InvalidParameter"
    assert code(call(made, "DescribeLiveDomains", [1, 2])) == "InvalidParameter"
    assert code(call(made, "DescribeLiveDomains", b"[" * 100000)) == "InvalidParameter"


def test_the_secret_key_is_never_answered(made: NewVendorKey) -> None:
    Domain.objects.create(app=made.key.app, name="push.example.com")
    for action in views.ACTIONS:
        assert made.secret not in str(call(made, action, {}))


def test_ranges_stricter_of_tencents_and_ours_win(made: NewVendorKey, settings: Any) -> None:
    settings.LIVEREC_MIN_RECORD_INTERVAL = 5  # ours allows 5 s files here; Tencent's minimum (60) wins
    refused = call(
        made, "CreateLiveRecordTemplate", {"TemplateName": "a", "FlvParam": {"Enable": 1, "RecordInterval": 59}}
    )
    assert code(refused) == "InvalidParameterValue" and "FlvParam.RecordInterval" in refused["Error"]["Message"]
    # AAC: Tencent 60–7200, ours 60–7200; MP4: 60–43200 both.
    assert code(
        call(made, "CreateLiveRecordTemplate", {"TemplateName": "a", "AacParam": {"Enable": 1, "RecordInterval": 7201}})
    ) == ("InvalidParameterValue")
    ok = call(
        made, "CreateLiveRecordTemplate", {"TemplateName": "a", "Mp4Param": {"Enable": 1, "RecordInterval": 43200}}
    )
    assert RecordTemplate.objects.get(pk=ok["TemplateId"]).mp4_record_interval == 43200
    assert code(call(made, "CreateLiveRecordTemplate", {"TemplateName": "名字"})) == "InvalidParameterValue"
    assert code(call(made, "CreateLiveRecordTemplate", {"TemplateName": "a"})) == "FailedOperation"
    bad_type = call(made, "CreateLiveRecordTemplate", {"TemplateName": "b", "FlvParam": {"Enable": "1"}})
    assert code(bad_type) == "InvalidParameter"


def test_the_legacy_stream_param_range_is_tencents(made: NewVendorKey) -> None:
    Domain.objects.create(app=made.key.app, name="push.example.com")
    base = {"StreamName": "s", "StartTime": "2026-03-01 20:10:00", "EndTime": "2026-03-01 20:40:00"}
    assert code(call(made, "CreateLiveRecord", {**base, "StreamParam": "record_interval=1799"})) == (
        "InvalidParameterValue"
    )
    created = call(made, "CreateLiveRecord", {**base, "StreamParam": "record_interval=1800"})
    assert isinstance(created["TaskId"], int)
    late = {**base, "EndTime": "2026-03-09 20:40:00"}
    assert code(call(made, "CreateLiveRecord", late)) == "InvalidParameter.InvalidTaskTime"


def test_describe_record_task_pages_with_a_scroll_token(made: NewVendorKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("vendors.tencent.record_tasks.DESCRIBE_PAGE_SIZE", 2)
    Domain.objects.create(app=made.key.app, name="push.example.com")
    made_ids = [
        call(
            made,
            "CreateRecordTask",
            {"StreamName": f"s{i}", "DomainName": "push.example.com", "AppName": "live", "EndTime": TS + 3600},
        )["TaskId"]
        for i in range(5)
    ]
    seen: list[str] = []
    token = ""
    for _ in range(5):
        page = call(made, "DescribeRecordTask", {"StartTime": TS - 60, "EndTime": TS + 7200, "ScrollToken": token})
        seen += [t["TaskId"] for t in page["TaskList"]]
        token = page["ScrollToken"]
        if not token:
            break
    assert seen == made_ids
    assert code(call(made, "DescribeRecordTask", {"StartTime": TS, "EndTime": TS + 8 * 86400})) == (
        "InvalidParameter.InvalidTaskTime"
    )
    forged = call(made, "DescribeRecordTask", {"StartTime": TS - 60, "EndTime": TS, "ScrollToken": "abc"})
    assert code(forged) == "InvalidParameterValue"


def test_the_apps_rate_limit_answers_request_limit_exceeded(made: NewVendorKey, settings: Any) -> None:
    settings.LIVEREC_API_RATE = "2/s"
    answers = [code(call(made, "DescribeLiveRecordRules", {})) for _ in range(3)]
    assert answers == [None, None, "RequestLimitExceeded"]


def test_push_domains_errors_are_tencents(made: NewVendorKey) -> None:
    assert code(call(made, "AddLiveDomain", {"DomainName": "bad_name!", "DomainType": 0})) == (
        "InvalidParameter.DomainFormatError"
    )
    assert code(call(made, "AddLiveDomain", {"DomainName": "play.example.com", "DomainType": 1})) == (
        "InvalidParameterValue"
    )
    assert code(call(made, "AddLiveDomain", {"DomainName": "push.example.com", "DomainType": 0})) is None
    assert code(call(made, "AddLiveDomain", {"DomainName": "PUSH.example.com", "DomainType": 0})) == (
        "InvalidParameter.DomainAlreadyExist"
    )
    template = call(made, "CreateLiveRecordTemplate", {"TemplateName": "t", "HlsParam": {"Enable": 1}})["TemplateId"]
    assert code(call(made, "CreateLiveRecordRule", {"DomainName": "other.example.com", "TemplateId": template})) == (
        "ResourceNotFound.PushDomainNoRecord"
    )
    assert code(call(made, "CreateLiveRecordRule", {"DomainName": "push.example.com", "TemplateId": template + 1})) == (
        "InvalidParameter.TemplateNotFound"
    )
    assert code(call(made, "CreateLiveRecordRule", {"DomainName": "push.example.com", "TemplateId": template})) is None
    assert code(call(made, "DeleteLiveDomain", {"DomainName": "push.example.com", "DomainType": 0})) == (
        "FailedOperation.ConfInUsed"
    )
    assert code(call(made, "DeleteLiveRecordRule", {"DomainName": "push.example.com", "AppName": "live"})) == (
        "InvalidParameter.RuleNotFound"
    ), "Domain, AppName and StreamName must match the rule exactly"
    assert code(call(made, "DeleteLiveRecordRule", {"DomainName": "push.example.com"})) is None
    assert code(call(made, "DeleteLiveDomain", {"DomainName": "push.example.com", "DomainType": 0})) is None
    assert not Domain.objects.exists()
