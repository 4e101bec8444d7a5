"""/api/v1/cloud-recordings/: every bound of SPEC just inside and just outside, conflicts, tenancy, answers."""

from __future__ import annotations

from typing import Any

import pytest

from recordings.models import RecordTask
from rooms.models import CloudRecording
from rules.models import Domain
from tests.conftest import Tenant
from tests.rooms.conftest import push

URL = "/api/v1/cloud-recordings/"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_recorder", "domain")]


def create(tenant: Tenant, **fields: Any) -> Any:
    body = {"domain": "push.example.com", "room_id": "class7", "mode": "single", **fields}
    return tenant.client.post(URL, body, format="json")


def refused_field(answer: Any) -> str:
    assert answer.status_code == 400, answer.content
    body = answer.json()
    assert body["code"] == "invalid_parameter" and body["message"]
    return ",".join(sorted(body["errors"]))


BOUNDS = [
    ("max_idle_time", 5, 86400, "max_idle_time"),
    ("max_record_time", 300, 86400, "max_record_time"),
]


@pytest.mark.parametrize(("name", "low", "high", "field"), BOUNDS)
def test_integer_bounds_just_inside_and_just_outside(
    tenant: Tenant, name: str, low: int, high: int, field: str
) -> None:
    for value in (low - 1, high + 1):
        assert refused_field(create(tenant, **{name: value})) == field
    for value in (low, high):
        answer = create(tenant, **{name: value})
        assert answer.status_code == 201, answer.content
        assert answer.json()[name] == value
        tenant.client.post(f"{URL}{answer.json()['id']}/stop/")


def test_snapshot_interval_bounds(tenant: Tenant) -> None:
    for value in (1, 3601):
        assert refused_field(create(tenant, snapshot={"interval": value})) == "snapshot.interval"
    for value in (2, 3600):
        answer = create(tenant, snapshot={"interval": value}, formats={})
        assert answer.status_code == 201, answer.content
        assert answer.json()["snapshot"]["interval"] == value and answer.json()["formats"] == {}
        tenant.client.post(f"{URL}{answer.json()['id']}/stop/")


def test_mute_audio_split_after_bounds_and_what_it_needs(tenant: Tenant) -> None:
    mp3 = {"mp3": {"record_interval": 600}}
    for value in (-1, 86401):
        answer = create(tenant, stream_type="audio", formats=mp3, mute_audio={"skip": True, "split_after": value})
        assert refused_field(answer) == "mute_audio.split_after"
    for value in (0, 86400):
        answer = create(tenant, stream_type="audio", formats=mp3, mute_audio={"skip": True, "split_after": value})
        assert answer.status_code == 201, answer.content
        assert answer.json()["mute_audio"] == {"skip": True, "split_after": value}
        tenant.client.post(f"{URL}{answer.json()['id']}/stop/")
    assert (
        refused_field(create(tenant, stream_type="video", formats=mp3, mute_audio={"split_after": 5})) == "mute_audio"
    )
    answer = create(tenant, stream_type="audio", formats={"mp4": {}}, mute_audio={"split_after": 5})
    assert refused_field(answer) == "mute_audio", "mp3 only"


def test_mute_audio_reaches_the_mp3_task(tenant: Tenant) -> None:
    push("alice", "room=class7")
    made = create(tenant, stream_type="audio", formats={"mp3": {}}, mute_audio={"skip": True, "split_after": 10})
    task = RecordTask.objects.get(cloud_recording_id=made.json()["id"])
    assert (task.record_type, set(task.formats), task.mute_audio) == (
        "audio",
        {"mp3"},
        {"skip": True, "split_after": 10},
    )


@pytest.mark.parametrize("room", ["", "r" * 129, "class 7", "class/7", "k%C3%A4", "é"])
def test_bad_room_ids_are_refused(tenant: Tenant, room: str) -> None:
    assert refused_field(create(tenant, room_id=room)) == "room_id"


def test_room_id_of_128_allowed_characters_is_accepted(tenant: Tenant) -> None:
    assert create(tenant, room_id="A-z_9" + "x" * 123).status_code == 201


@pytest.mark.parametrize("name", ["subscribe_audio", "subscribe_video", "unsubscribe_audio", "unsubscribe_video"])
def test_lists_of_32_are_accepted_and_33_refused(tenant: Tenant, name: str) -> None:
    assert refused_field(create(tenant, **{name: [f"s{i}" for i in range(33)]})) == name
    answer = create(tenant, **{name: [f"s{i}" for i in range(32)]})
    assert answer.status_code == 201 and len(answer.json()[name]) == 32


@pytest.mark.parametrize("medium", ["audio", "video"])
def test_a_list_and_its_un_twin_are_refused(tenant: Tenant, medium: str) -> None:
    answer = create(tenant, **{f"subscribe_{medium}": ["a"], f"unsubscribe_{medium}": ["b"]})
    assert refused_field(answer) == f"unsubscribe_{medium}"


def test_bad_stream_names_in_lists_are_refused(tenant: Tenant) -> None:
    assert refused_field(create(tenant, subscribe_audio=["a b"])).startswith("subscribe_audio")


def test_mix_is_refused_for_single_and_mixed_is_not_yet_supported(tenant: Tenant) -> None:
    assert refused_field(create(tenant, mix={"layout": "grid"})) == "mix"
    assert refused_field(create(tenant, mode="mixed", mix={"layout": "grid"})) == "mode"
    assert refused_field(create(tenant, mode="both")) == "mode"
    assert refused_field(create(tenant, fill_blank=True)) == "fill_blank"
    assert not CloudRecording.objects.exists()


def test_other_choices_and_references_are_checked(tenant: Tenant, other_tenant: Tenant) -> None:
    assert refused_field(create(tenant, stream_type="both")) == "stream_type"
    assert refused_field(create(tenant, domain="nowhere.example.com")) == "domain"
    assert refused_field(create(tenant, formats={"mp4": {"record_interval": 59}})) == "formats.mp4.record_interval"
    assert refused_field(create(tenant, formats={})) == "formats"
    assert refused_field(create(tenant, callback_url="ftp://x")) == "callback_url"
    Domain.objects.create(app=other_tenant.app, name="theirs.example.com")
    assert refused_field(create(tenant, domain="theirs.example.com")) == "domain"


def test_a_second_running_recording_of_the_room_and_mode_is_409(tenant: Tenant) -> None:
    first = create(tenant).json()
    again = create(tenant)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert create(tenant, room_id="class8").status_code == 201
    tenant.client.post(f"{URL}{first['id']}/stop/")
    assert create(tenant).status_code == 201


def test_describe_stop_and_repeated_stop(tenant: Tenant, other_tenant: Tenant) -> None:
    push("alice", "room=class7&user=u1")
    made = create(tenant, subscribe_video=["bob"]).json()
    assert made["status"] == "recording" and made["formats"] == {"mp4": {"record_interval": 1800, "storage_time": 0}}
    got = tenant.client.get(f"{URL}{made['id']}/").json()
    assert [(s["stream_name"], s["user_id"], s["audio"], s["video"]) for s in got["streams"]] == [
        ("alice", "u1", True, False)
    ]
    assert got["files"] == [] and got["snapshot_count"] == 0
    assert other_tenant.client.get(f"{URL}{made['id']}/").status_code == 404
    stopped = tenant.client.post(f"{URL}{made['id']}/stop/")
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopping"
    again = tenant.client.post(f"{URL}{made['id']}/stop/")
    assert again.status_code == 409 and again.json()["code"] == "already_stopped"


def test_update_subscription_and_update_layout(tenant: Tenant) -> None:
    push("alice", "room=class7")
    made = create(tenant).json()
    url = f"{URL}{made['id']}/update-subscription/"
    over = tenant.client.post(url, {"subscribe_audio": ["a"], "unsubscribe_audio": ["b"]}, format="json")
    assert refused_field(over) == "unsubscribe_audio"
    answer = tenant.client.post(url, {"unsubscribe_video": ["alice"]}, format="json")
    assert answer.status_code == 200
    assert [(s["stream_name"], s["video"]) for s in answer.json()["streams"]] == [("alice", False)]
    layout = tenant.client.post(f"{URL}{made['id']}/update-layout/", {"mix": {}}, format="json")
    assert layout.status_code == 409 and layout.json()["code"] == "conflict"


def test_list_filters(tenant: Tenant) -> None:
    a = create(tenant).json()
    create(tenant, room_id="class8")
    tenant.client.post(f"{URL}{a['id']}/stop/")
    rows = tenant.client.get(URL, {"room_id": "class7"}).json()["results"]
    assert [r["id"] for r in rows] == [a["id"]]
    assert {r["room_id"] for r in tenant.client.get(URL, {"status": "idle"}).json()["results"]} == {"class8"}
    assert len(tenant.client.get(URL, {"domain": "PUSH.example.com", "mode": "single"}).json()["results"]) == 2
