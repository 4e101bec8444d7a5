"""Ingest hooks: push domain, push signature, sessions and frozen rule tasks (no media here)."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import Client, override_settings

from deploy.record_wait import awaited_files
from recordings.choices import SessionStatus, TaskKind, TaskStatus
from recordings.dispatch import RECORD_STREAM, ingest_queue
from recordings.models import PublishSession, RecordTask
from rules.models import Domain, RecordRule
from rules.push_auth import sign_push
from templates_app.models import RecordTemplate
from tests.conftest import Tenant

TOKEN = "hook-token-for-tests"
NGINX = f"/hooks/nginx-rtmp/?token={TOKEN}&ingest=127.0.0.1:1935"
SRS = f"/hooks/srs/?token={TOKEN}"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hook_token", "no_recorder")]


@pytest.fixture
def hook_token() -> Any:
    with override_settings(LIVEREC_HOOK_TOKEN=TOKEN):
        yield


@pytest.fixture
def no_recorder() -> Any:
    """The recorder job is a Celery task; here only that it is enqueued matters (the e2e tests run it)."""
    with mock.patch("recordings.dispatch.send_now") as send:
        yield send


@pytest.fixture
def world(tenant: Tenant) -> dict[str, Any]:
    domain = Domain.objects.create(
        app=tenant.app,
        name="push.example.com",
        push_auth_enabled=True,
        push_auth_key="primary-key-1",
        push_auth_backup_key="backup-key-2",
    )
    template = RecordTemplate.objects.create(
        app=tenant.app, name="all", mp4_enabled=True, mp4_record_interval=600, hls_enabled=True
    )
    rule = RecordRule.objects.create(app=tenant.app, domain="push.example.com", template=template)
    return {"domain": domain, "template": template, "rule": rule}


def publish(client: Client, stream: str = "demo", host: str = "push.example.com", **args: str) -> Any:
    form = {
        "call": "publish",
        "app": "live",
        "name": stream,
        "tcurl": f"rtmp://{host}:1935/live",
        "addr": "10.0.0.9",
        "clientid": "7",
        "type": "live",
        "flashver": "FMLE/3.0",
        **args,
    }
    return client.post(NGINX, form)


def signed(key: str, stream: str = "demo", ttl: int = 600) -> dict[str, str]:
    return sign_push(key=key, stream_name=stream, expires_at=int(time.time()) + ttl)


def test_a_signed_push_opens_a_session_and_a_frozen_rule_task(
    world: dict[str, Any], no_recorder: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = publish(client, **signed("primary-key-1"))
    assert response.status_code == 200
    session = PublishSession.objects.get()
    assert (session.domain_name, session.app_name, session.stream_name, session.status) == (
        "push.example.com",
        "live",
        "demo",
        "live",
    )
    assert session.source_url == "rtmp://127.0.0.1:1935/live/demo"
    assert "txSecret" in session.stream_param and session.client_addr == "10.0.0.9"
    task = RecordTask.objects.get()
    assert (task.kind, task.status, task.rule, task.session) == (
        TaskKind.RULE,
        TaskStatus.RECORDING,
        world["rule"],
        session,
    )
    assert task.formats == {
        "hls": {"record_interval": 1800, "storage_time": 0},
        "mp4": {"record_interval": 600, "storage_time": 0},
    }
    no_recorder.assert_called_once_with(RECORD_STREAM, session.pk, countdown=None, queue=ingest_queue())


def test_the_backup_key_signs_too(world: dict[str, Any]) -> None:
    assert publish(Client(), **signed("backup-key-2")).status_code == 200


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        ({}, "missing txSecret or txTime"),
        ({"txSecret": "0" * 32, "txTime": "FFFFFFFF"}, "wrong txSecret"),
        ({"txSecret": "abc", "txTime": "zz"}, "txTime is not a hexadecimal unix time"),
    ],
)
def test_a_bad_signature_is_refused(world: dict[str, Any], args: dict[str, str], reason: str, no_recorder: Any) -> None:
    response = publish(Client(), **args)
    assert response.status_code == 403
    assert response.json()["message"] == reason
    assert not PublishSession.objects.exists()
    no_recorder.assert_not_called()


def test_an_expired_signature_is_refused(world: dict[str, Any]) -> None:
    response = publish(Client(), **signed("primary-key-1", ttl=-5))
    assert response.status_code == 403
    assert response.json()["message"] == "push URL expired (txTime is in the past)"


def test_a_signature_for_another_stream_is_refused(world: dict[str, Any]) -> None:
    assert publish(Client(), stream="demo", **signed("primary-key-1", stream="other")).status_code == 403


def test_auth_disabled_needs_no_signature(world: dict[str, Any]) -> None:
    Domain.objects.filter(pk=world["domain"].pk).update(push_auth_enabled=False)
    assert publish(Client()).status_code == 200


def test_an_unknown_domain_is_refused(world: dict[str, Any]) -> None:
    response = publish(Client(), host="elsewhere.tv")
    assert response.status_code == 403
    assert response.json()["message"] == "unknown push domain 'elsewhere.tv'"


def test_the_catch_all_domain_takes_unlisted_hosts(tenant: Tenant) -> None:
    Domain.objects.create(app=tenant.app, name="*")
    assert publish(Client(), host="anything.tv").status_code == 200
    assert PublishSession.objects.get().domain.name == "*"


def test_a_push_without_a_rule_opens_a_session_but_no_recorder(tenant: Tenant, no_recorder: Any) -> None:
    Domain.objects.create(app=tenant.app, name="push.example.com")
    assert publish(Client()).status_code == 200
    assert PublishSession.objects.get().recorder_status == "done"
    assert not RecordTask.objects.exists()
    no_recorder.assert_not_called()


def test_a_do_not_record_template_records_nothing(world: dict[str, Any], no_recorder: Any) -> None:
    exclude = RecordTemplate.objects.create(app=world["domain"].app, name="none")
    RecordRule.objects.create(
        app=world["domain"].app, domain="push.example.com", stream_name="private", template=exclude
    )
    assert publish(Client(), stream="private", **signed("primary-key-1", stream="private")).status_code == 200
    assert not RecordTask.objects.exists()
    no_recorder.assert_not_called()


def test_editing_the_template_later_does_not_change_the_task(world: dict[str, Any]) -> None:
    publish(Client(), **signed("primary-key-1"))
    RecordTemplate.objects.filter(pk=world["template"].pk).update(mp4_record_interval=60, flv_enabled=True)
    assert set(RecordTask.objects.get().formats) == {"hls", "mp4"}


def test_publish_done_ends_the_session(world: dict[str, Any]) -> None:
    client = Client()
    publish(client, **signed("primary-key-1"))
    form = {
        "call": "publish_done",
        "app": "live",
        "name": "demo",
        "tcurl": "rtmp://push.example.com:1935/live",
        "clientid": "7",
    }
    assert client.post(NGINX, form).status_code == 200
    session = PublishSession.objects.get()
    assert session.status == SessionStatus.ENDED and session.ended_at is not None
    assert client.post(NGINX, form).status_code == 200


def test_a_wrong_hook_token_is_403(world: dict[str, Any]) -> None:
    response = Client().post("/hooks/nginx-rtmp/?token=nope", {"call": "publish"})
    assert response.status_code == 403
    assert not PublishSession.objects.exists()


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"call": "publish", "app": "live", "name": "x"}, 400),
        ({"call": "dance", "app": "live", "name": "x", "tcurl": "rtmp://a/live"}, 400),
        ({"call": "publish", "app": "live", "name": "x", "tcurl": "not a url"}, 400),
        ({"call": "update_publish", "app": "live", "name": "x"}, 200),
    ],
)
def test_garbage_hook_input_is_4xx(world: dict[str, Any], form: dict[str, str], status: int) -> None:
    assert Client().post(NGINX, form).status_code == status
    assert not PublishSession.objects.exists()


def test_an_oversized_hook_body_is_413(world: dict[str, Any]) -> None:
    response = Client().post(NGINX, {"call": "publish", "junk": "x" * 70_000})
    assert response.status_code == 413


def test_srs_on_publish_allows_with_body_0(world: dict[str, Any]) -> None:
    sig = signed("primary-key-1")
    body = {
        "action": "on_publish",
        "client_id": "c1",
        "ip": "10.0.0.8",
        "vhost": "push.example.com",
        "app": "live",
        "stream": "demo",
        "param": f"?txSecret={sig['txSecret']}&txTime={sig['txTime']}",
        "server_id": "srs-1",
    }
    response = Client().post(SRS, body, content_type="application/json")
    assert (response.status_code, response.content) == (200, b"0")
    assert PublishSession.objects.get().client_addr == "10.0.0.8"
    body["action"] = "on_unpublish"
    assert Client().post(SRS, body, content_type="application/json").content == b"0"
    assert PublishSession.objects.get().status == SessionStatus.ENDED


def test_srs_refuses_with_a_nonzero_code(world: dict[str, Any]) -> None:
    body = {"action": "on_publish", "vhost": "push.example.com", "app": "live", "stream": "demo", "param": ""}
    response = Client().post(SRS, body, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] != 0


def test_srs_garbage_is_400(world: dict[str, Any]) -> None:
    assert Client().post(SRS, "not json", content_type="application/json").status_code == 400
    assert Client().post(SRS, [1, 2], content_type="application/json").status_code == 400


@pytest.mark.parametrize(
    ("record_dir", "stored"),
    [
        ("/var/lib/liverecord/nginx/record", "/var/lib/liverecord/nginx/record"),
        ("relative/record", ""),
        ("/var/lib/../../etc", ""),
        ("/" + "a" * 600, ""),
        ("", ""),
    ],
)
def test_the_ingest_record_folder_comes_from_the_hook_url(world: dict[str, Any], record_dir: str, stored: str) -> None:
    client = Client()
    form = {"call": "publish", "app": "live", "name": "demo", "tcurl": "rtmp://push.example.com/live", "addr": "1"}
    form.update(signed("primary-key-1"))
    response = client.post(f"{NGINX}&{urlencode({'record_dir': record_dir})}", form)
    assert response.status_code == 200
    assert PublishSession.objects.get().ingest_record_dir == stored


def test_a_recorded_push_marks_its_record_file_as_awaited_until_the_recorder_comes(
    world: dict[str, Any], tmp_path: Any
) -> None:
    """The ingest's janitor must not trim the start of a push whose recorder is still queued (issue 17)."""
    record_dir = tmp_path / "record"
    record_dir.mkdir()
    form = {"call": "publish", "app": "live", "name": "demo", "tcurl": "rtmp://push.example.com/live", "addr": "1"}
    form.update(signed("primary-key-1"))
    response = Client().post(f"{NGINX}&{urlencode({'record_dir': str(record_dir)})}", form)
    assert response.status_code == 200
    started = int(PublishSession.objects.get().started_at.timestamp())
    assert f"demo-{started}.flv" in awaited_files(record_dir)
    assert f"demo-{started + 2}.flv" in awaited_files(record_dir), "nginx names the file a moment after the hook"
    assert f"other-{started}.flv" not in awaited_files(record_dir)
