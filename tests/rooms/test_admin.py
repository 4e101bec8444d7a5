"""The console's Cloud recordings pages: list, detail with the streams seen, and the stop action."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from rooms.choices import CloudStatus
from rooms.models import CloudRecording
from rooms.services import cloud_recording_create
from rules.models import Domain
from tests.conftest import Tenant
from tests.rooms.conftest import push

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_recorder")]


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client()
    client.login(username="root", password="pw-for-tests-123")
    return client


def test_the_console_lists_shows_and_stops_cloud_recordings(console: Client, tenant: Tenant, domain: Domain) -> None:
    push("alice", "room=class7&user=u1")
    recording = cloud_recording_create(app=tenant.app, domain=domain.name, room_id="class7")
    listed = console.get("/admin/rooms/cloudrecording/")
    assert listed.status_code == 200 and recording.public_id in listed.content.decode()
    detail = console.get(f"/admin/rooms/cloudrecording/{recording.pk}/change/").content.decode()
    assert "alice" in detail and "u1" in detail
    assert "Start recording" in console.get("/admin/rooms/cloudrecording/add/").content.decode()
    stopped = console.post(
        "/admin/rooms/cloudrecording/",
        {"action": "stop_recordings", "_selected_action": [recording.pk]},
        follow=True,
    )
    assert stopped.status_code == 200
    assert CloudRecording.objects.get().status == CloudStatus.STOPPING
    again = console.post(
        "/admin/rooms/cloudrecording/", {"action": "stop_recordings", "_selected_action": [recording.pk]}, follow=True
    )
    assert "already stopping" in again.content.decode()


def test_live_sessions_show_and_find_their_room(console: Client, domain: Domain) -> None:
    push("alice", "room=class7&user=u1")
    push("bob")
    page = console.get("/admin/recordings/publishsession/", {"q": "class7"}).content.decode()
    assert "class7" in page and "alice" in page and "bob" not in page


def test_the_console_starts_a_recording_with_the_services_checks(console: Client, domain: Domain) -> None:
    form = {
        "domain": domain.pk,
        "room_id": "class7",
        "stream_type": "audio",
        "unsubscribe_audio": "bob, carol",
        "max_idle_time": 4,
        "max_record_time": 300,
    }
    refused = console.post("/admin/rooms/cloudrecording/add/", form)
    assert refused.status_code == 200 and "must be between 5 and 86400" in refused.content.decode()
    assert not CloudRecording.objects.exists()
    started = console.post("/admin/rooms/cloudrecording/add/", {**form, "max_idle_time": 5})
    assert started.status_code == 302
    recording = CloudRecording.objects.get()
    assert (recording.stream_type, recording.unsubscribe_audio, recording.max_idle_time) == (
        "audio",
        ["bob", "carol"],
        5,
    )
    again = console.post("/admin/rooms/cloudrecording/add/", {**form, "max_idle_time": 5})
    assert "already has a running single recording" in again.content.decode()
