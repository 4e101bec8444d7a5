"""Record tasks through the API: every bound of SPEC.md just inside and just outside, stop and delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from recordings.choices import TaskStatus
from recordings.models import PublishSession, RecordTask
from recordings.services import task_recording_finished, task_windows_tick
from rules.models import Domain
from templates_app.models import RecordTemplate
from tests.conftest import Tenant

URL = "/api/v1/record-tasks/"
pytestmark = pytest.mark.django_db


@pytest.fixture
def domain(tenant: Tenant) -> Domain:
    return Domain.objects.create(app=tenant.app, name="push.tv", lookback_seconds=60)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def scheduled(tenant: Tenant, **fields: Any) -> Any:
    body = {"domain": "push.tv", "app_name": "live", "stream_name": "s1", **fields}
    return tenant.client.post(URL, body, format="json")


def go_live(tenant: Tenant, stream: str = "s1") -> PublishSession:
    return PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name=stream,
        started_at=timezone.now(),
        ingest="127.0.0.1:1935",
        source_url=f"rtmp://127.0.0.1:1935/live/{stream}",
    )


def error_of(response: Any, field: str) -> str:
    assert response.status_code == 400, response.json()
    return response.json()["errors"][field][0]


class TestScheduledWindows:
    def test_a_future_window_is_scheduled(self, tenant: Tenant, domain: Domain) -> None:
        now = timezone.now()
        response = scheduled(tenant, start_time=iso(now + timedelta(hours=1)), end_time=iso(now + timedelta(hours=2)))
        assert response.status_code == 201, response.json()
        body = response.json()
        assert (body["kind"], body["status"], len(body["id"])) == ("scheduled", "scheduled", 16)
        assert body["formats"] == {"hls": {"record_interval": 0, "storage_time": 0}}

    def test_unix_seconds_are_accepted(self, tenant: Tenant, domain: Domain) -> None:
        now = int(timezone.now().timestamp())
        response = scheduled(tenant, start_time=now + 60, end_time=now + 120)
        assert response.status_code == 201
        assert response.json()["end_time"] == datetime.fromtimestamp(now + 120, tz=UTC).isoformat().replace(
            "+00:00", "Z"
        )

    def test_a_window_open_now_waits_for_the_stream(self, tenant: Tenant, domain: Domain) -> None:
        response = scheduled(tenant, end_time=iso(timezone.now() + timedelta(minutes=5)))
        assert response.json()["status"] == "waiting"

    def test_a_window_open_on_a_live_stream_records_it(self, tenant: Tenant, domain: Domain) -> None:
        session = go_live(tenant)
        response = scheduled(tenant, end_time=iso(timezone.now() + timedelta(minutes=5)))
        assert response.json()["status"] == "recording"
        assert response.json()["session"] == session.public_id

    def test_end_must_follow_start(self, tenant: Tenant, domain: Domain) -> None:
        now = timezone.now()
        response = scheduled(tenant, start_time=iso(now + timedelta(hours=2)), end_time=iso(now + timedelta(hours=1)))
        assert error_of(response, "end_time") == "must be after start_time"

    def test_end_must_be_in_the_future(self, tenant: Tenant, domain: Domain) -> None:
        now = timezone.now()
        response = scheduled(tenant, start_time=iso(now - timedelta(hours=2)), end_time=iso(now - timedelta(seconds=1)))
        assert error_of(response, "end_time") == "must be in the future"

    def test_end_within_seven_days(self, tenant: Tenant, domain: Domain) -> None:
        now = timezone.now()
        inside = scheduled(
            tenant,
            start_time=iso(now + timedelta(days=6, hours=1)),
            end_time=iso(now + timedelta(days=6, hours=23, minutes=59)),
        )
        assert inside.status_code == 201
        outside = scheduled(
            tenant, start_time=iso(now + timedelta(days=6, hours=23)), end_time=iso(now + timedelta(days=7, minutes=1))
        )
        assert error_of(outside, "end_time") == "must be within 7 days from now"

    def test_span_at_most_24_hours(self, tenant: Tenant, domain: Domain) -> None:
        start = timezone.now() + timedelta(hours=1)
        assert scheduled(tenant, start_time=iso(start), end_time=iso(start + timedelta(hours=24))).status_code == 201
        outside = scheduled(
            tenant, stream_name="s2", start_time=iso(start), end_time=iso(start + timedelta(hours=24, seconds=1))
        )
        assert error_of(outside, "end_time") == "must be at most 24 hours after start_time"

    def test_end_time_is_required(self, tenant: Tenant, domain: Domain) -> None:
        assert error_of(scheduled(tenant), "end_time") == "is required for a scheduled task"

    def test_bad_times_and_fields(self, tenant: Tenant, domain: Domain) -> None:
        assert (
            error_of(scheduled(tenant, end_time="tomorrow"), "end_time")
            == "must be an ISO 8601 time with offset or unix seconds"
        )
        assert error_of(
            scheduled(tenant, end_time=iso(timezone.now() + timedelta(hours=1)), stream_name="a b"), "stream_name"
        )
        assert error_of(
            scheduled(tenant, domain="other.tv", end_time=iso(timezone.now() + timedelta(hours=1))), "domain"
        ) == ("'other.tv' is not a push domain of this app")

    def test_formats_are_validated_per_format(self, tenant: Tenant, domain: Domain) -> None:
        end = iso(timezone.now() + timedelta(hours=1))
        ok = scheduled(
            tenant, end_time=end, formats={"mp4": {"record_interval": 600, "storage_time": 0}}, record_type="audio"
        )
        assert ok.status_code == 201
        assert ok.json()["formats"] == {"mp4": {"record_interval": 600, "storage_time": 0}}
        assert ok.json()["record_type"] == "audio"
        bad = scheduled(tenant, stream_name="s2", end_time=end, formats={"mp4": {"record_interval": 59}})
        assert error_of(bad, "formats.mp4.record_interval") == "must be between 60 and 43200"
        assert (
            error_of(scheduled(tenant, end_time=end, formats={"avi": {}}), "formats.avi")
            == "is not a format (flv, hls, mp4, aac, mp3)"
        )

    def test_a_template_is_frozen_into_the_task(self, tenant: Tenant, domain: Domain) -> None:
        template = RecordTemplate.objects.create(app=tenant.app, name="t", flv_enabled=True, flv_record_interval=300)
        response = scheduled(tenant, end_time=iso(timezone.now() + timedelta(hours=1)), template=template.pk)
        assert response.json()["formats"] == {"flv": {"record_interval": 300, "storage_time": 0}}
        RecordTemplate.objects.filter(pk=template.pk).update(flv_record_interval=900)
        assert RecordTask.objects.get().formats["flv"]["record_interval"] == 300

    @override_settings(LIVEREC_MAX_OVERLAPPING_TASKS=2)
    def test_the_overlap_limit_is_409(self, tenant: Tenant, domain: Domain) -> None:
        start = timezone.now() + timedelta(hours=1)
        for _ in range(2):
            assert scheduled(tenant, start_time=iso(start), end_time=iso(start + timedelta(hours=1))).status_code == 201
        response = scheduled(
            tenant, start_time=iso(start + timedelta(minutes=30)), end_time=iso(start + timedelta(hours=2))
        )
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert response.json()["message"] == "at most 2 recordings may run at once on one stream"
        later = scheduled(tenant, start_time=iso(start + timedelta(hours=1)), end_time=iso(start + timedelta(hours=2)))
        assert later.status_code == 201


class TestHighlights:
    def test_a_highlight_on_a_stream_that_is_not_live_is_409(self, tenant: Tenant, domain: Domain) -> None:
        response = scheduled(tenant, highlight=True)
        assert response.status_code == 409
        assert response.json()["code"] == "stream_not_live"

    def test_a_highlight_defaults_to_30_minutes(self, tenant: Tenant, domain: Domain) -> None:
        session = go_live(tenant)
        before = timezone.now()
        body = scheduled(tenant, highlight=True).json()
        assert (body["kind"], body["status"], body["session"]) == ("highlight", "recording", session.public_id)
        end = datetime.fromisoformat(body["end_time"])
        assert timedelta(minutes=29, seconds=59) <= end - before <= timedelta(minutes=30, seconds=2)

    def test_highlight_end_at_most_30_minutes(self, tenant: Tenant, domain: Domain) -> None:
        go_live(tenant)
        now = timezone.now()
        assert (
            scheduled(tenant, highlight=True, end_time=iso(now + timedelta(minutes=29, seconds=50))).status_code == 201
        )
        outside = scheduled(tenant, highlight=True, end_time=iso(now + timedelta(minutes=30, seconds=10)))
        assert error_of(outside, "end_time") == "must be at most 30 minutes from now"

    def test_lookback_up_to_the_domains(self, tenant: Tenant, domain: Domain) -> None:
        go_live(tenant)
        before = timezone.now()
        body = scheduled(tenant, highlight=True, lookback_seconds=60).json()
        assert abs((before - datetime.fromisoformat(body["start_time"])).total_seconds() - 60) < 2
        outside = scheduled(tenant, highlight=True, lookback_seconds=61)
        assert error_of(outside, "lookback_seconds") == "must be between 0 and 60 (the domain's lookback_seconds)"
        assert (
            error_of(scheduled(tenant, highlight=True, lookback_seconds=1801), "lookback_seconds")
            == "must be between 0 and 1800"
        )

    def test_a_highlight_has_no_start_time(self, tenant: Tenant, domain: Domain) -> None:
        go_live(tenant)
        assert error_of(scheduled(tenant, highlight=True, start_time=iso(timezone.now())), "start_time")


class TestStopAndDelete:
    def test_stop_a_recording_task_then_it_finishes(self, tenant: Tenant, domain: Domain) -> None:
        go_live(tenant)
        task_id = scheduled(tenant, highlight=True).json()["id"]
        response = tenant.client.post(f"{URL}{task_id}/stop/")
        assert (response.status_code, response.json()["status"]) == (200, "stopping")
        task_recording_finished(task_id=task_id)
        assert RecordTask.objects.get(public_id=task_id).status == TaskStatus.FINISHED
        again = tenant.client.post(f"{URL}{task_id}/stop/")
        assert (again.status_code, again.json()["code"]) == (409, "already_stopped")

    def test_a_repeated_stop_is_409_as_soon_as_the_first_is_accepted(self, tenant: Tenant, domain: Domain) -> None:
        go_live(tenant)
        task_id = scheduled(tenant, highlight=True).json()["id"]
        assert tenant.client.post(f"{URL}{task_id}/stop/").json()["status"] == "stopping"
        again = tenant.client.post(f"{URL}{task_id}/stop/")
        assert (again.status_code, again.json()["code"]) == (409, "already_stopped")
        assert again.json()["message"] == "the task is already stopping"
        assert RecordTask.objects.get(public_id=task_id).status == TaskStatus.STOPPING

    def test_stop_before_start_cancels(self, tenant: Tenant, domain: Domain) -> None:
        start = timezone.now() + timedelta(hours=1)
        task_id = scheduled(tenant, start_time=iso(start), end_time=iso(start + timedelta(hours=1))).json()["id"]
        assert tenant.client.post(f"{URL}{task_id}/stop/").json()["status"] == "cancelled"

    def test_delete_rules(self, tenant: Tenant, domain: Domain) -> None:
        start = timezone.now() + timedelta(hours=1)
        not_started = scheduled(tenant, start_time=iso(start), end_time=iso(start + timedelta(hours=1))).json()["id"]
        assert tenant.client.delete(f"{URL}{not_started}/").status_code == 204
        assert not RecordTask.objects.filter(public_id=not_started).exists()
        go_live(tenant)
        running = scheduled(tenant, highlight=True).json()["id"]
        response = tenant.client.delete(f"{URL}{running}/")
        assert (response.status_code, response.json()["code"]) == (409, "conflict")
        tenant.client.post(f"{URL}{running}/stop/")
        task_recording_finished(task_id=running)
        assert tenant.client.delete(f"{URL}{running}/").status_code == 204

    def test_another_apps_task_is_404(self, tenant: Tenant, other_tenant: Tenant, domain: Domain) -> None:
        task_id = scheduled(tenant, end_time=iso(timezone.now() + timedelta(hours=1))).json()["id"]
        for method in ("get", "delete"):
            assert getattr(other_tenant.client, method)(f"{URL}{task_id}/").status_code == 404
        assert other_tenant.client.post(f"{URL}{task_id}/stop/").status_code == 404
        assert other_tenant.client.get(URL).json()["count"] == 0

    def test_filters(self, tenant: Tenant, domain: Domain) -> None:
        scheduled(tenant, end_time=iso(timezone.now() + timedelta(hours=1)))
        go_live(tenant, "s2")
        scheduled(tenant, stream_name="s2", highlight=True)
        assert [r["kind"] for r in tenant.client.get(URL, {"kind": "highlight"}).json()["results"]] == ["highlight"]
        assert tenant.client.get(URL, {"status": ["waiting", "recording"]}).json()["count"] == 2
        assert tenant.client.get(URL, {"stream_name": "s1"}).json()["count"] == 1


class TestWindowEdges:
    def test_the_tick_opens_and_closes_windows(self, tenant: Tenant, domain: Domain) -> None:
        now = timezone.now()
        task_id = scheduled(
            tenant, start_time=iso(now + timedelta(seconds=30)), end_time=iso(now + timedelta(minutes=2))
        ).json()["id"]
        assert task_windows_tick(now=now + timedelta(seconds=10)) == {"opened": 0, "closed": 0}
        session = go_live(tenant)
        assert task_windows_tick(now=now + timedelta(seconds=31))["opened"] == 1
        task = RecordTask.objects.get(public_id=task_id)
        assert (task.status, task.session) == (TaskStatus.RECORDING, session)

    def test_an_edge_missed_while_down_is_caught_up(self, tenant: Tenant, domain: Domain) -> None:
        now = timezone.now()
        task_id = scheduled(
            tenant, start_time=iso(now + timedelta(seconds=30)), end_time=iso(now + timedelta(minutes=2))
        ).json()["id"]
        assert task_windows_tick(now=now + timedelta(minutes=3))["closed"] == 1
        assert RecordTask.objects.get(public_id=task_id).status == TaskStatus.FINISHED

    def test_a_push_that_ends_inside_the_window_waits_for_the_next(self, tenant: Tenant, domain: Domain) -> None:
        go_live(tenant)
        task_id = scheduled(tenant, end_time=iso(timezone.now() + timedelta(minutes=5))).json()["id"]
        task_recording_finished(task_id=task_id)
        task = RecordTask.objects.get(public_id=task_id)
        assert (task.status, task.session) == (TaskStatus.WAITING, None)
