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
    assert console.get("/admin/rooms/cloudrecording/add/").status_code == 403
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
