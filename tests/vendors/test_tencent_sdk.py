"""Tencent's own SDK (`tencentcloud-sdk-python-live` LiveClient) against the running service."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from tencentcloud.common import abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from liverecord.models import App
from recordings.models import RecordTask
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.vendors.tencent_sdk import live_client_for, request
from vendors.choices import Vendor
from vendors.services import NewVendorKey, vendor_key_create, vendor_key_revoke

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def made(transactional_db: None) -> NewVendorKey:
    app = App.objects.create(name="tc")
    return vendor_key_create(app=app, vendor=Vendor.TENCENT)


@pytest.fixture
def client(live_server: Any, made: NewVendorKey) -> Any:
    return live_client_for(live_server, made.key.key_id, made.secret)


def sdk_error(call: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as caught:
        call()
    assert caught.value.get_request_id(), "Tencent's envelope carries a RequestId with every error"
    return caught.value


def test_templates_rules_and_domains_round_trip(client: Any, made: NewVendorKey) -> None:
    client.AddLiveDomain(request("AddLiveDomain", DomainName="Push.Example.com", DomainType=0))
    created = client.CreateLiveRecordTemplate(
        request(
            "CreateLiveRecordTemplate",
            TemplateName="hls_and_mp4",
            Description="from the SDK",
            HlsParam={"Enable": 1, "StorageTime": 86400},
            Mp4Param={"Enable": 1, "RecordInterval": 600},
            HlsSpecialParam={"FlowContinueDuration": 120},
        )
    )
    template = RecordTemplate.objects.get(pk=created.TemplateId, app=made.key.app)
    assert template.enabled_formats == ["hls", "mp4"]
    assert (template.mp4_record_interval, template.hls_storage_time, template.hls_continue_duration) == (
        600,
        86400,
        120,
    )

    client.ModifyLiveRecordTemplate(
        request(
            "ModifyLiveRecordTemplate", TemplateId=created.TemplateId, FlvParam={"Enable": 1, "RecordInterval": 900}
        )
    )
    info = client.DescribeLiveRecordTemplate(request("DescribeLiveRecordTemplate", TemplateId=created.TemplateId))
    assert info.Template.TemplateName == "hls_and_mp4"
    assert (info.Template.FlvParam.Enable, info.Template.FlvParam.RecordInterval) == (1, 900)
    assert info.Template.HlsSpecialParam.FlowContinueDuration == 120
    listed = client.DescribeLiveRecordTemplates(request("DescribeLiveRecordTemplates"))
    assert [t.TemplateId for t in listed.Templates] == [created.TemplateId]

    client.CreateLiveRecordRule(
        request("CreateLiveRecordRule", DomainName="push.example.com", AppName="live", TemplateId=created.TemplateId)
    )
    rule = RecordRule.objects.get(app=made.key.app)
    assert (rule.domain, rule.app_name, rule.stream_name, rule.template_id) == (
        "push.example.com",
        "live",
        "",
        template.pk,
    )
    rules = client.DescribeLiveRecordRules(request("DescribeLiveRecordRules")).Rules
    assert [(r.DomainName, r.AppName, r.TemplateId) for r in rules] == [("push.example.com", "live", template.pk)]
    assert (
        sdk_error(
            lambda: client.CreateLiveRecordRule(
                request("CreateLiveRecordRule", DomainName="push.example.com", AppName="live", TemplateId=template.pk)
            )
        ).code
        == "FailedOperation.RuleAlreadyExist"
    )
    assert (
        sdk_error(
            lambda: client.DeleteLiveRecordTemplate(request("DeleteLiveRecordTemplate", TemplateId=template.pk))
        ).code
        == "InvalidParameter.ConfInUsed"
    )

    client.DeleteLiveRecordRule(request("DeleteLiveRecordRule", DomainName="push.example.com", AppName="live"))
    client.DeleteLiveRecordTemplate(request("DeleteLiveRecordTemplate", TemplateId=template.pk))
    assert not RecordTemplate.objects.exists() and not RecordRule.objects.exists()

    domains = client.DescribeLiveDomains(request("DescribeLiveDomains"))
    assert (domains.AllCount, [d.Name for d in domains.DomainList]) == (1, ["push.example.com"])
    client.DeleteLiveDomain(request("DeleteLiveDomain", DomainName="push.example.com", DomainType=0))
    assert not Domain.objects.exists()


def test_record_tasks_new_and_legacy(client: Any, made: NewVendorKey) -> None:
    Domain.objects.create(app=made.key.app, name="push.example.com")
    now = int(time.time())
    created = client.CreateRecordTask(
        request(
            "CreateRecordTask",
            StreamName="s1",
            DomainName="push.example.com",
            AppName="live",
            StartTime=now + 3600,
            EndTime=now + 7200,
        )
    )
    task = RecordTask.objects.get(public_id=created.TaskId)
    assert task.start_time == datetime.fromtimestamp(now + 3600, UTC) and task.formats == {
        "hls": {"record_interval": 0, "storage_time": 0}
    }, "Tencent: no TemplateId records HLS, kept forever"
    found = client.DescribeRecordTask(request("DescribeRecordTask", StartTime=now, EndTime=now + 86400))
    assert [(t.TaskId, t.StreamName, t.Stopped) for t in found.TaskList] == [(created.TaskId, "s1", 0)]
    assert found.ScrollToken == ""
    client.StopRecordTask(request("StopRecordTask", TaskId=created.TaskId))
    assert (
        sdk_error(lambda: client.StopRecordTask(request("StopRecordTask", TaskId=created.TaskId))).code
        == "FailedOperation.AlterTaskState"
    )
    client.DeleteRecordTask(request("DeleteRecordTask", TaskId=created.TaskId))
    assert not RecordTask.objects.filter(public_id=created.TaskId).exists()
    assert (
        sdk_error(lambda: client.StopRecordTask(request("StopRecordTask", TaskId=created.TaskId))).code
        == "InvalidParameter.TaskNotExist"
    )

    cst = datetime.now(UTC) + timedelta(hours=8)
    legacy = client.CreateLiveRecord(
        request(
            "CreateLiveRecord",
            StreamName="s2",
            AppName="live",
            DomainName="push.example.com",
            StartTime=(cst + timedelta(minutes=10)).strftime("%Y-%m-%d+%H%%3a%M%%3a%S"),
            EndTime=(cst + timedelta(minutes=40)).strftime("%Y-%m-%d %H:%M:%S"),
            FileFormat="MP4",
            StreamParam="record_interval=3600&storage_time=2592000",
        )
    )
    assert isinstance(legacy.TaskId, int)
    row = RecordTask.objects.get(pk=legacy.TaskId)
    assert row.formats == {"mp4": {"record_interval": 3600, "storage_time": 2592000}}
    client.StopLiveRecord(request("StopLiveRecord", StreamName="s2", TaskId=legacy.TaskId))
    client.DeleteLiveRecord(request("DeleteLiveRecord", StreamName="s2", TaskId=legacy.TaskId))
    assert not RecordTask.objects.filter(pk=legacy.TaskId).exists()
    assert (
        sdk_error(lambda: client.CreateLiveRecord(request("CreateLiveRecord", StreamName="s3", Highlight=1))).code
        == "ResourceUnavailable.StreamNotExist"
    )


def test_bad_credentials_and_requests_get_tencents_codes(
    live_server: Any, client: Any, made: NewVendorKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = live_client_for(live_server, made.key.key_id, made.secret[:-1] + ("x" if made.secret[-1] != "x" else "y"))
    assert sdk_error(lambda: wrong.DescribeLiveRecordRules(request("DescribeLiveRecordRules"))).code == (
        "AuthFailure.SignatureFailure"
    )
    unknown = live_client_for(live_server, "AKID" + "0" * 32, made.secret)
    assert sdk_error(lambda: unknown.DescribeLiveRecordRules(request("DescribeLiveRecordRules"))).code == (
        "AuthFailure.SecretIdNotFound"
    )
    assert sdk_error(lambda: client.call_json("DescribeLiveStreamEverything", {})).code == "InvalidAction"
    out_of_range = sdk_error(
        lambda: client.CreateLiveRecordTemplate(
            request("CreateLiveRecordTemplate", TemplateName="t", Mp4Param={"Enable": 1, "RecordInterval": 30})
        )
    )
    assert out_of_range.code == "InvalidParameterValue" and "Mp4Param.RecordInterval" in out_of_range.message
    assert (
        sdk_error(
            lambda: client.CreateLiveRecordTemplate(
                request("CreateLiveRecordTemplate", TemplateName="t", HlsSpecialParam={"FlowContinueDuration": 1801})
            )
        ).code
        == "InvalidParameterValue"
    )
    assert sdk_error(lambda: client.CreateLiveRecordTemplate(request("CreateLiveRecordTemplate"))).code == (
        "MissingParameter"
    )

    # The client's clock six minutes behind (Tencent allows five).
    stale = SimpleNamespace(time=lambda: time.time() - 360, sleep=time.sleep)
    monkeypatch.setattr(abstract_client, "time", stale)
    assert sdk_error(lambda: client.DescribeLiveRecordRules(request("DescribeLiveRecordRules"))).code == (
        "AuthFailure.SignatureExpire"
    )
    monkeypatch.undo()
    vendor_key_revoke(key=made.key)
    assert sdk_error(lambda: client.DescribeLiveRecordRules(request("DescribeLiveRecordRules"))).code == (
        "AuthFailure.SecretIdNotFound"
    )
