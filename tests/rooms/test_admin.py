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


def test_the_console_updates_the_subscription_through_the_service_and_stops_from_the_page(
    console: Client, tenant: Tenant, domain: Domain
) -> None:
    push("alice", "room=class7&user=u1")
    recording = cloud_recording_create(app=tenant.app, domain=domain.name, room_id="class7")
    update = f"/admin/rooms/cloudrecording/{recording.pk}/update-subscription/"
    assert console.get(update).status_code == 405, "a write is a POST"
    refused = console.post(update, {"subscribe_video": "alice", "unsubscribe_video": "bob"}, follow=True)
    assert "give subscribe_video or unsubscribe_video, not both" in refused.content.decode()
    recording.refresh_from_db()
    assert (recording.subscribe_video, recording.unsubscribe_video) == (None, None)
    done = console.post(update, {"subscribe_audio": "alice, carol", "unsubscribe_video": "alice"}, follow=True)
    assert "subscription updated" in done.content.decode()
    recording.refresh_from_db()
    assert (recording.subscribe_audio, recording.unsubscribe_video) == (["alice", "carol"], ["alice"])
    page = console.get(f"/admin/rooms/cloudrecording/{recording.pk}/change/").content.decode()
    assert 'value="alice, carol"' in page and 'id="object-action-stop"' in page and 'name="_save"' not in page

    stopped = console.post(f"/admin/rooms/cloudrecording/{recording.pk}/stop/", follow=True)
    status = CloudRecording.objects.get().status
    assert status in (CloudStatus.STOPPING, CloudStatus.FINISHED)
    assert f"Cloud recording {recording.public_id}: {status}." in stopped.content.decode()
    late = console.post(update, {"subscribe_audio": "bob"}, follow=True)
    assert f"the cloud recording is {status}" in late.content.decode()
    assert CloudRecording.objects.get().subscribe_audio == ["alice", "carol"]


def test_live_sessions_link_their_room_to_its_cloud_recordings(console: Client, domain: Domain) -> None:
    push("alice", "room=class_7&user=u1")
    page = console.get("/admin/recordings/publishsession/").content.decode()
    assert '<a class="session-room" href="/admin/rooms/cloudrecording/?room_id=class_7">class_7</a> (u1)' in page
