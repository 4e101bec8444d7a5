"""A push that nothing records is accepted, and its session says why (API and admin), until a recording attaches."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.test import Client, override_settings

from recordings.choices import RecorderStatus
from recordings.models import PublishSession
from recordings.services import recorder_claim, recorder_refused
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.conftest import Tenant

TOKEN = "hook-token-for-not-recorded"
NOTE = "not recorded: no rule matches push.example.com/live/demo"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_recorder() -> Any:
    with mock.patch("workers.tasks.record_stream.delay") as delay:
        yield delay


def publish(stream: str = "demo", host: str = "push.example.com") -> Any:
    form = {"call": "publish", "app": "live", "name": stream, "tcurl": f"rtmp://{host}/live", "clientid": "1"}
    with override_settings(LIVEREC_HOOK_TOKEN=TOKEN):
        return Client().post(f"/hooks/nginx-rtmp/?token={TOKEN}&ingest=127.0.0.1:1935", form)


def test_a_push_no_rule_matches_is_accepted_and_says_it_is_not_recorded(tenant: Tenant) -> None:
    Domain.objects.create(app=tenant.app, name="push.example.com")
    assert publish(host="Push.Example.com").status_code == 200
    session = PublishSession.objects.get()
    assert (session.recorder_status, session.recorder_note) == (RecorderStatus.DONE, NOTE)
    body = tenant.client.get("/api/v1/sessions/").json()["results"][0]
    assert body["recorder_note"] == NOTE


def test_a_do_not_record_template_says_so_too(tenant: Tenant) -> None:
    Domain.objects.create(app=tenant.app, name="push.example.com")
    RecordRule.objects.create(app=tenant.app, template=RecordTemplate.objects.create(app=tenant.app, name="nothing"))
    assert publish().status_code == 200
    assert PublishSession.objects.get().recorder_note == (
        "not recorded: the matching rule's template 'nothing' records no format"
    )


def test_a_recorded_push_has_no_note(tenant: Tenant) -> None:
    Domain.objects.create(app=tenant.app, name="push.example.com")
    RecordRule.objects.create(
        app=tenant.app, template=RecordTemplate.objects.create(app=tenant.app, name="hls", hls_enabled=True)
    )
    assert publish().status_code == 200
    assert PublishSession.objects.get().recorder_note == ""


def test_a_spooled_push_keeps_its_note_until_a_highlight_records_it(tenant: Tenant) -> None:
    """A domain with a look-back spools every push for highlights: the recorder runs, yet nothing is recorded."""
    Domain.objects.create(app=tenant.app, name="push.example.com", lookback_seconds=60)
    assert publish().status_code == 200
    session = PublishSession.objects.get()
    assert (session.recorder_status, session.recorder_note) == (RecorderStatus.PENDING, NOTE)
    recorder_refused(session_id=session.pk, reason="every worker is full")
    assert recorder_claim(session_id=session.pk)
    session.refresh_from_db()
    assert (session.recorder_status, session.recorder_note) == (RecorderStatus.RUNNING, NOTE)
    response = tenant.client.post(
        "/api/v1/record-tasks/",
        {"highlight": True, "domain": "push.example.com", "app_name": "live", "stream_name": "demo"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    session.refresh_from_db()
    assert session.recorder_note == ""
