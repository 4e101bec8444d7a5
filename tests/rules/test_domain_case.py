"""SPEC.md: push domain names are case-insensitive everywhere. Each path that takes a name is given a mixed-case one
and must store, match and filter the lower-cased name a push reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from recordings.choices import TaskStatus
from recordings.models import PublishSession, RecordFile, RecordTask
from rules.models import Domain, RecordRule
from rules.services import domain_name_normalize
from templates_app.models import RecordTemplate
from tests.conftest import Tenant

TOKEN = "hook-token-for-case-tests"
MIXED = "Push.Example.COM"
LOWER = "push.example.com"

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_recorder() -> Any:
    with mock.patch("workers.tasks.record_stream.delay") as delay:
        yield delay


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client()
    client.login(username="root", password="pw-for-tests-123")
    return client


@pytest.fixture
def domain(tenant: Tenant) -> Domain:
    return Domain.objects.create(app=tenant.app, name=LOWER)


def nginx_publish(host: str, stream: str = "demo", call: str = "publish") -> Any:
    form = {"call": call, "app": "live", "name": stream, "tcurl": f"rtmp://{host}:1935/live", "clientid": "1"}
    with override_settings(LIVEREC_HOOK_TOKEN=TOKEN):
        return Client().post(f"/hooks/nginx-rtmp/?token={TOKEN}&ingest=127.0.0.1:1935", form)


def test_the_normal_form_is_lower_case_without_a_trailing_dot() -> None:
    assert domain_name_normalize(" Push.Example.COM. ") == LOWER
    assert domain_name_normalize("*") == "*"
    assert domain_name_normalize("") == ""


def test_the_api_stores_a_mixed_case_domain_lower_cased(tenant: Tenant) -> None:
    response = tenant.client.post("/api/v1/domains/", {"name": MIXED}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["name"] == LOWER
    duplicate = tenant.client.post("/api/v1/domains/", {"name": "PUSH.example.com"}, format="json")
    assert duplicate.status_code == 409


def test_the_api_stores_a_rule_for_a_mixed_case_domain_lower_cased(tenant: Tenant, domain: Domain) -> None:
    template = RecordTemplate.objects.create(app=tenant.app, name="t", mp4_enabled=True)
    response = tenant.client.post(
        "/api/v1/record-rules/", {"domain": MIXED, "app_name": "live", "template": template.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert RecordRule.objects.get().domain == LOWER
    match = tenant.client.get(
        "/api/v1/record-rules/match/", {"domain": MIXED, "app_name": "live", "stream_name": "demo"}
    )
    assert match.status_code == 200 and match.json()["rule"]["domain"] == LOWER


def test_a_scheduled_task_made_over_the_api_for_a_mixed_case_domain_attaches_to_the_push(
    tenant: Tenant, domain: Domain, no_recorder: Any
) -> None:
    """The issue's case: the task was stored as typed while sessions store the lower-cased host, so it never
    attached and never recorded."""
    end = timezone.now() + timedelta(hours=1)
    response = tenant.client.post(
        "/api/v1/record-tasks/",
        {"domain": MIXED, "app_name": "live", "stream_name": "demo", "end_time": end.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["domain"] == LOWER
    assert nginx_publish("PUSH.example.com").status_code == 200
    task = RecordTask.objects.get()
    session = PublishSession.objects.get()
    assert (task.status, task.session_id, session.domain_name) == (TaskStatus.RECORDING, session.pk, LOWER)
    assert session.recorder_note == ""


def test_a_highlight_for_a_mixed_case_domain_finds_the_live_push(
    tenant: Tenant, domain: Domain, no_recorder: Any
) -> None:
    assert nginx_publish(LOWER).status_code == 200
    response = tenant.client.post(
        "/api/v1/record-tasks/",
        {"highlight": True, "domain": MIXED, "app_name": "live", "stream_name": "demo"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert RecordTask.objects.get().session == PublishSession.objects.get()


def test_publish_done_with_a_mixed_case_host_ends_the_session(tenant: Tenant, domain: Domain) -> None:
    assert nginx_publish("Push.Example.Com").status_code == 200
    assert nginx_publish("PUSH.EXAMPLE.COM", call="publish_done").status_code == 200
    assert PublishSession.objects.get().status == "ended"


def test_srs_vhosts_are_case_insensitive(tenant: Tenant, domain: Domain) -> None:
    body = {"action": "on_publish", "vhost": MIXED, "app": "live", "stream": "demo", "client_id": "c1"}
    with override_settings(LIVEREC_HOOK_TOKEN=TOKEN):
        response = Client().post(f"/hooks/srs/?token={TOKEN}", body, content_type="application/json")
    assert response.content == b"0"
    assert PublishSession.objects.get().domain == domain


def test_list_filters_take_a_mixed_case_domain(tenant: Tenant, domain: Domain, no_recorder: Any) -> None:
    assert nginx_publish(LOWER).status_code == 200
    session = PublishSession.objects.get()
    now = timezone.now()
    RecordFile.objects.create(
        app=tenant.app,
        session=session,
        domain=LOWER,
        app_name="live",
        stream_name="demo",
        format="mp4",
        start_time=now,
        end_time=now,
        duration=1,
        size=1,
        name="f",
    )
    template = RecordTemplate.objects.create(app=tenant.app, name="t")
    RecordRule.objects.create(app=tenant.app, domain=LOWER, template=template)
    for path, key in (
        ("/api/v1/files/", "domain"),
        ("/api/v1/sessions/", "domain"),
        ("/api/v1/record-rules/", "domain"),
        ("/api/v1/domains/", "name"),
    ):
        body = tenant.client.get(path, {key: MIXED}).json()
        assert body["count"] == 1, (path, body)
    assert tenant.client.get("/api/v1/domains/", {"name_prefix": "PUSH."}).json()["count"] == 1


def test_the_console_stores_a_mixed_case_domain_lower_cased(console: Client, tenant: Tenant) -> None:
    response = console.post(
        "/admin/rules/domain/add/",
        {
            "app": tenant.app.pk,
            "name": MIXED,
            "source_url_template": "rtmp://{ingest}/{app}/{stream}",
            "lookback_seconds": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Domain.objects.get().name == LOWER


def test_the_console_stores_a_rule_for_a_mixed_case_domain_lower_cased(
    console: Client, tenant: Tenant, domain: Domain
) -> None:
    template = RecordTemplate.objects.create(app=tenant.app, name="t", mp4_enabled=True)
    response = console.post(
        "/admin/rules/recordrule/add/",
        {"app": tenant.app.pk, "domain": MIXED, "app_name": "live", "stream_name": "", "template": template.pk},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert RecordRule.objects.get().domain == LOWER
    tester = console.get(
        "/admin/rules/recordrule/match/",
        {"app": tenant.app.pk, "domain": MIXED, "app_name": "live", "stream_name": "x"},
    )
    assert tester.context["winner"] == RecordRule.objects.get()


def test_the_console_task_form_stores_a_mixed_case_domain_lower_cased(
    console: Client, tenant: Tenant, domain: Domain
) -> None:
    start = timezone.now() + timedelta(hours=1)
    response = console.post(
        "/admin/recordings/recordtask/add/",
        {
            "app": tenant.app.pk,
            "kind": "scheduled",
            "domain": MIXED,
            "app_name": "live",
            "stream_name": "demo",
            "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
            "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    assert RecordTask.objects.get().domain == LOWER
