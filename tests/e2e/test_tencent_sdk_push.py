"""Tencent's SDK drives a real recording: template, domain, rule and record task made with LiveClient, real
pushes through nginx-rtmp, the files found through the API and checked with PyAV."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from liverecord.services import app_create
from recordings.choices import FileStatus
from recordings.models import PublishSession
from tests.e2e.conftest import settled_files, wait_until
from tests.support.media import make_clip, push
from tests.vendors.tencent_sdk import live_client_for, request
from vendors.choices import Vendor
from vendors.services import vendor_key_create

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PUSHED = 12


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.flv", seconds=PUSHED, gop_frames=25)


def files_via_api(live_server: Any, key: str, stream: str) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{live_server.url}/api/v1/files/",
        params={"stream_name": stream},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return sorted(answer.json()["results"], key=lambda f: f["format"])


def test_a_template_rule_and_task_made_with_the_sdk_record_real_pushes(
    live_server: Any, ingest: Any, clip: Path
) -> None:
    app, api_key = app_create(name="tencent-e2e")
    made = vendor_key_create(app=app, vendor=Vendor.TENCENT)
    client = live_client_for(live_server, made.key.key_id, made.secret)
    client.AddLiveDomain(request("AddLiveDomain", DomainName="127.0.0.1", DomainType=0))
    template = client.CreateLiveRecordTemplate(
        request("CreateLiveRecordTemplate", TemplateName="mp4_hls", Mp4Param={"Enable": 1}, HlsParam={"Enable": 1})
    ).TemplateId
    client.CreateLiveRecordRule(
        request("CreateLiveRecordRule", DomainName="127.0.0.1", AppName="live", StreamName="ruled", TemplateId=template)
    )
    now = int(time.time())
    task_id = client.CreateRecordTask(
        request("CreateRecordTask", DomainName="127.0.0.1", AppName="live", StreamName="tasked", EndTime=now + 120)
    ).TaskId

    publishers = [push(ingest.rtmp_url(stream), clip) for stream in ("ruled", "tasked")]
    wait_until(lambda: PublishSession.objects.filter(stream_name="tasked", status="live").exists(), 20, "the push")
    online = client.DescribeLiveStreamOnlineList(request("DescribeLiveStreamOnlineList", DomainName="127.0.0.1"))
    assert {s.StreamName for s in online.OnlineInfo} == {"ruled", "tasked"} and online.TotalNum == 2
    assert all(p.wait(timeout=60) == 0 for p in publishers)

    settled_files(60, count=2, stream_name="ruled")
    ruled = files_via_api(live_server, api_key, "ruled")
    assert [(f["format"], f["status"]) for f in ruled] == [("hls", FileStatus.STORED), ("mp4", FileStatus.STORED)]
    (mp4,) = settled_files(stream_name="ruled", format="mp4")
    with av.open(mp4.local_path) as container:
        assert float(container.duration or 0) / av.time_base == pytest.approx(PUSHED, abs=0.5)

    client.StopRecordTask(request("StopRecordTask", TaskId=task_id))
    settled_files(60, count=1, stream_name="tasked")
    tasked = files_via_api(live_server, api_key, "tasked")
    assert [(f["format"], f["task"]) for f in tasked] == [("hls", task_id)], "no TemplateId: HLS, as Tencent"
    listed = client.DescribeRecordTask(request("DescribeRecordTask", StartTime=now - 60, EndTime=now + 3600))
    (entry,) = [t for t in listed.TaskList if t.TaskId == task_id]
    assert entry.StreamName == "tasked" and entry.Stopped > 0
