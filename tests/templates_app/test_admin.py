"""The console's template form goes through the template service: its refusals are form errors, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from liverecord.models import App
from templates_app.choices import Format
from templates_app.models import RecordTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client(raise_request_exception=True)
    client.login(username="root", password="pw-for-tests-123")
    return client


def template_form(app: App, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"app": app.pk, "name": "classes", "record_type": "video", "hls_continue_duration": 0}
    for fmt in Format.values:
        base |= {f"{fmt}_record_interval": 1800, f"{fmt}_storage_time": 0}
    return {**base, **fields}


def test_a_template_is_created_and_edited_in_the_console(console: Client) -> None:
    app = App.objects.create(name="acme")
    assert (
        console.post("/admin/templates_app/recordtemplate/add/", template_form(app, mp4_enabled="on")).status_code
        == 302
    )
    template = RecordTemplate.objects.get()
    response = console.post(
        f"/admin/templates_app/recordtemplate/{template.pk}/change/",
        template_form(app, mp4_enabled="on", mp4_record_interval=600),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.mp4_enabled, template.mp4_record_interval) == (True, 600)


def test_a_duplicate_name_and_a_bad_interval_are_form_errors(console: Client) -> None:
    app = App.objects.create(name="acme")
    RecordTemplate.objects.create(app=app, name="classes")
    response = console.post("/admin/templates_app/recordtemplate/add/", template_form(app))
    assert response.status_code == 200
    assert "already exists" in response.context["adminform"].form.errors["name"][0]
    response = console.post(
        "/admin/templates_app/recordtemplate/add/",
        template_form(app, name="other", mp4_enabled="on", mp4_record_interval=10),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["mp4_record_interval"]
    assert RecordTemplate.objects.count() == 1
