"""The template's ``snapshot`` section: bounds, defaults, partial updates, and what a task freezes of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from templates_app.constants import DEFAULT_SNAPSHOT_NAME_TEMPLATE
from templates_app.models import RecordTemplate
from templates_app.naming import NameContext, render_file_name
from tests.conftest import Tenant
from tests.templates_app.test_api import URL, assert_invalid, post_template


@pytest.mark.django_db
class TestSnapshotSection:
    def test_an_object_enables_snapshots_with_defaults(self, tenant: Tenant) -> None:
        body = post_template(tenant, snapshot={}).json()
        assert body["snapshot"] == {"enabled": True, "interval": 10, "storage_time": 0}

    def test_no_section_is_null_and_freezes_to_null(self, tenant: Tenant) -> None:
        body = post_template(tenant, mp4={}).json()
        assert body["snapshot"] is None
        assert RecordTemplate.objects.get(pk=body["id"]).frozen_parameters()["snapshot"] is None

    @pytest.mark.parametrize("interval", [2, 3600])
    def test_interval_bounds_inside(self, tenant: Tenant, interval: int) -> None:
        assert post_template(tenant, snapshot={"interval": interval}).status_code == 201

    @pytest.mark.parametrize("interval", [1, 3601, 0, -5])
    def test_interval_bounds_outside(self, tenant: Tenant, interval: int) -> None:
        assert_invalid(
            post_template(tenant, snapshot={"interval": interval}), "snapshot.interval", "must be between 2 and 3600"
        )

    @pytest.mark.parametrize("value", ["10", 10.5, True, None])
    def test_interval_must_be_an_integer(self, tenant: Tenant, value: Any) -> None:
        response = post_template(tenant, snapshot={"interval": value})
        assert response.status_code == 400
        assert "snapshot.interval" in response.json()["errors"]

    def test_storage_time_bounds(self, tenant: Tenant) -> None:
        assert post_template(tenant, snapshot={"storage_time": 129600000}).status_code == 201
        assert_invalid(
            post_template(tenant, snapshot={"storage_time": 129600001}),
            "snapshot.storage_time",
            "must be between 0 and 129600000",
        )

    def test_enabled_must_be_a_boolean(self, tenant: Tenant) -> None:
        assert_invalid(post_template(tenant, snapshot={"enabled": "yes"}), "snapshot.enabled", "must be true or false")

    def test_patch_merges_and_null_turns_off(self, tenant: Tenant) -> None:
        tpl = post_template(tenant, snapshot={"interval": 5, "storage_time": 60}).json()
        body = tenant.client.patch(f"{URL}{tpl['id']}/", {"snapshot": {"interval": 30}}, format="json").json()
        assert body["snapshot"] == {"enabled": True, "interval": 30, "storage_time": 60}
        body = tenant.client.patch(f"{URL}{tpl['id']}/", {"snapshot": None}, format="json").json()
        assert body["snapshot"] is None

    def test_put_without_the_section_turns_it_off(self, tenant: Tenant) -> None:
        tpl = post_template(tenant, snapshot={"interval": 5}).json()
        body = tenant.client.put(f"{URL}{tpl['id']}/", {"name": "bounds"}, format="json").json()
        assert body["snapshot"] is None

    def test_frozen_into_the_task_and_disabled_freezes_null(self, tenant: Tenant) -> None:
        on = RecordTemplate.objects.get(
            pk=post_template(tenant, snapshot={"interval": 3, "storage_time": 7}).json()["id"]
        )
        assert on.frozen_parameters()["snapshot"] == {"interval": 3, "storage_time": 7}
        assert on.records_anything
        off = RecordTemplate(app=tenant.app, name="off", snapshot={"enabled": False, "interval": 3})
        assert off.frozen_parameters()["snapshot"] is None
        assert not off.records_anything

    def test_the_model_refuses_a_bad_section(self, tenant: Tenant) -> None:
        template = RecordTemplate(app=tenant.app, name="m", snapshot={"interval": 1, "size": 3})
        with pytest.raises(Exception, match=r"snapshot\.interval must be between 2 and 3600"):
            template.full_clean()


@pytest.mark.django_db
class TestSnapshotNames:
    @pytest.mark.parametrize(
        "value", ["{StreamID}_{Year}{Month}{Day}", "shot_{StartHour}{StartMinute}", "s_{RandomID}"]
    )
    def test_valid_templates_are_frozen_with_the_section(self, tenant: Tenant, value: str) -> None:
        body = post_template(tenant, snapshot={"interval": 5}, snapshot_name_template=value).json()
        assert body["snapshot_name_template"] == value
        frozen = RecordTemplate.objects.get(pk=body["id"]).frozen_parameters()["snapshot"]
        assert frozen == {"interval": 5, "storage_time": 0, "name_template": value}

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("{StreamID}", "must contain a time placeholder or {RandomID}"),
            ("{Year}_{Nope}", "has unknown placeholders: {Nope}"),
            ("../{Year}", "must not contain '..' or '.' path segments"),
        ],
    )
    def test_invalid_templates_are_400(self, tenant: Tenant, value: str, reason: str) -> None:
        assert_invalid(post_template(tenant, snapshot_name_template=value), "snapshot_name_template", reason)

    def test_the_name_renders_the_frame_time(self) -> None:
        moment = datetime(2026, 11, 21, 8, 0, 7, 250_000, tzinfo=UTC)
        context = NameContext(domain="d", app_name="live", stream_id="cam", record_id="r", start=moment, end=moment)
        assert render_file_name(DEFAULT_SNAPSHOT_NAME_TEMPLATE, context) == "cam_20261121080007"
        assert render_file_name("{AppName}/{Year}-{Millisecond}", context) == "live/2026-250"
