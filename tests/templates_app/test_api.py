from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from rules.models import RecordRule
from templates_app.models import RecordTemplate
from tests.api_base import APIResourceTests
from tests.conftest import Tenant

URL = "/api/v1/record-templates/"


def make_template(tenant: Tenant, name: str = "tpl", **fields: Any) -> RecordTemplate:
    return RecordTemplate.objects.create(app=tenant.app, name=name, **fields)


@pytest.mark.django_db
class TestRecordTemplateAPI(APIResourceTests):
    namespace = "templates_app"
    basename = "recordtemplate"
    create_data = {
        "name": "class-recording",
        "description": "online classes",
        "mp4": {"record_interval": 600, "storage_time": 86400},
        "hls": {"enabled": True},
        "hls_continue_duration": 120,
        "record_type": "video",
    }
    update_data = {"description": "changed", "hls_continue_duration": 30}

    def make(self, tenant: Tenant, index: int = 0) -> RecordTemplate:
        return make_template(tenant, name=f"tpl-{index}")


@pytest.mark.django_db
class TestRecordTemplateFormats:
    def test_an_object_enables_a_format_with_defaults(self, tenant: Tenant) -> None:
        body = tenant.client.post(URL, {"name": "a", "flv": {}}, format="json").json()
        assert body["flv"] == {"enabled": True, "record_interval": 1800, "storage_time": 0}
        assert body["mp4"]["enabled"] is False

    def test_null_or_enabled_false_disables_a_format(self, tenant: Tenant) -> None:
        template = make_template(tenant, flv_enabled=True, mp4_enabled=True)
        response = tenant.client.patch(f"{URL}{template.pk}/", {"flv": None, "mp4": {"enabled": False}}, format="json")
        assert response.status_code == 200
        template.refresh_from_db()
        assert template.enabled_formats == []

    def test_patch_of_one_format_field_keeps_the_others(self, tenant: Tenant) -> None:
        template = make_template(tenant, mp4_enabled=True, mp4_record_interval=900, mp4_storage_time=3600)
        tenant.client.patch(f"{URL}{template.pk}/", {"mp4": {"record_interval": 1200}}, format="json")
        template.refresh_from_db()
        assert (template.mp4_enabled, template.mp4_record_interval, template.mp4_storage_time) == (True, 1200, 3600)

    def test_put_without_a_format_disables_it(self, tenant: Tenant) -> None:
        template = make_template(tenant, name="t", flv_enabled=True)
        response = tenant.client.put(f"{URL}{template.pk}/", {"name": "t", "hls": {}}, format="json")
        assert response.status_code == 200
        template.refresh_from_db()
        assert template.enabled_formats == ["hls"]

    def test_a_template_with_no_formats_means_do_not_record(self, tenant: Tenant) -> None:
        response = tenant.client.post(URL, {"name": "exclude"}, format="json")
        assert response.status_code == 201
        assert RecordTemplate.objects.get(pk=response.json()["id"]).frozen_formats() == {}

    def test_duplicate_name_is_409(self, tenant: Tenant) -> None:
        make_template(tenant, name="dup")
        response = tenant.client.post(URL, {"name": "dup"}, format="json")
        assert response.status_code == 409
        assert response.json()["code"] == "conflict"
        assert response.json()["errors"] == {"name": ["a template named 'dup' already exists"]}

    def test_same_name_in_another_app_is_fine(self, tenant: Tenant, other_tenant: Tenant) -> None:
        make_template(other_tenant, name="shared")
        assert tenant.client.post(URL, {"name": "shared"}, format="json").status_code == 201

    def test_deleting_a_template_a_rule_uses_is_409(self, tenant: Tenant) -> None:
        template = make_template(tenant)
        RecordRule.objects.create(app=tenant.app, template=template)
        response = tenant.client.delete(f"{URL}{template.pk}/")
        assert response.status_code == 409
        assert "used by 1 rule" in response.json()["message"]
        assert RecordTemplate.objects.filter(pk=template.pk).exists()

    def test_url_names_are_namespaced(self) -> None:
        assert reverse("templates_app:recordtemplate-list") == URL


def post_template(tenant: Tenant, **fields: Any) -> Any:
    return tenant.client.post(URL, {"name": "bounds", **fields}, format="json")


def assert_invalid(response: Any, path: str, reason: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["errors"][path] == [reason], body
    assert body["message"] == f"{path.rsplit('.', 1)[-1]} {reason}"


@pytest.mark.django_db
class TestRecordTemplateBounds:
    @pytest.mark.parametrize(
        ("fmt", "low", "high"), [("flv", 60, 43200), ("mp4", 60, 43200), ("aac", 60, 7200), ("mp3", 60, 7200)]
    )
    def test_record_interval_bounds(self, tenant: Tenant, fmt: str, low: int, high: int) -> None:
        for ok in (low, high):
            response = tenant.client.post(URL, {"name": f"ok{ok}", fmt: {"record_interval": ok}}, format="json")
            assert response.status_code == 201, response.json()
        for bad in (low - 1, high + 1):
            assert_invalid(
                post_template(tenant, **{fmt: {"record_interval": bad}}),
                f"{fmt}.record_interval",
                f"must be between {low} and {high}",
            )

    @override_settings(LIVEREC_MIN_RECORD_INTERVAL=10)
    def test_lowered_minimum_record_interval(self, tenant: Tenant) -> None:
        assert post_template(tenant, mp4={"record_interval": 10}).status_code == 201
        assert_invalid(
            post_template(tenant, flv={"record_interval": 9}), "flv.record_interval", "must be between 10 and 43200"
        )

    def test_hls_ignores_record_interval(self, tenant: Tenant) -> None:
        assert post_template(tenant, hls={"record_interval": 5}).status_code == 201

    def test_storage_time_bounds(self, tenant: Tenant) -> None:
        assert post_template(tenant, mp4={"storage_time": 0}).status_code == 201
        assert (
            tenant.client.post(URL, {"name": "b2", "mp4": {"storage_time": 129600000}}, format="json").status_code
            == 201
        )
        assert_invalid(
            post_template(tenant, mp4={"storage_time": -1}), "mp4.storage_time", "must be between 0 and 129600000"
        )
        assert_invalid(
            post_template(tenant, mp4={"storage_time": 129600001}),
            "mp4.storage_time",
            "must be between 0 and 129600000",
        )

    def test_hls_continue_duration_bounds(self, tenant: Tenant) -> None:
        assert post_template(tenant, hls_continue_duration=1800).status_code == 201
        assert_invalid(
            post_template(tenant, hls_continue_duration=1801), "hls_continue_duration", "must be between 0 and 1800"
        )
        assert_invalid(
            post_template(tenant, hls_continue_duration=-1), "hls_continue_duration", "must be between 0 and 1800"
        )

    @pytest.mark.parametrize("name", ["a", "A" * 64, "class_1-b"])
    def test_valid_names(self, tenant: Tenant, name: str) -> None:
        assert tenant.client.post(URL, {"name": name}, format="json").status_code == 201

    @pytest.mark.parametrize("name", ["", "A" * 65, "has space", "dot.name", "ü"])
    def test_invalid_names(self, tenant: Tenant, name: str) -> None:
        response = tenant.client.post(URL, {"name": name}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"]["name"] == ["must be 1–64 letters, digits, '_' or '-'"]

    def test_missing_name(self, tenant: Tenant) -> None:
        response = tenant.client.post(URL, {}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"] == {"name": ["is required"]}

    def test_description_bounds(self, tenant: Tenant) -> None:
        assert post_template(tenant, description="d" * 1024).status_code == 201
        assert_invalid(post_template(tenant, description="d" * 1025), "description", "must be at most 1024 characters")

    def test_record_type_choices(self, tenant: Tenant) -> None:
        assert post_template(tenant, record_type="audio").status_code == 201
        assert_invalid(post_template(tenant, record_type="video2"), "record_type", "must be 'video' or 'audio'")

    @pytest.mark.parametrize(
        "template", ["{StreamID}_{StartYear}{StartMonth}", "{RandomID}", "sub/{StreamID}-{StartMillisecond}"]
    )
    def test_valid_file_name_templates(self, tenant: Tenant, template: str) -> None:
        assert post_template(tenant, file_name_template=template).status_code == 201

    @pytest.mark.parametrize(
        ("template", "reason"),
        [
            ("{StreamID}", "must contain a start-time placeholder or {RandomID}"),
            ("{Nope}_{StartYear}", "has unknown placeholders: {Nope}"),
            ("../{StartYear}", "must not contain '..' or '.' path segments"),
            ("/abs/{StartYear}", "must be a relative name, not an absolute path"),
            ("a\x01{StartYear}", "must not contain control characters"),
        ],
    )
    def test_invalid_file_name_templates(self, tenant: Tenant, template: str, reason: str) -> None:
        assert_invalid(post_template(tenant, file_name_template=template), "file_name_template", reason)

    def test_a_format_must_be_an_object(self, tenant: Tenant) -> None:
        response = post_template(tenant, mp4="yes")
        assert response.status_code == 400
        assert "mp4" in response.json()["errors"]
