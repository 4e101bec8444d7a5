from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from liverecord.models import App
from liverecord.services import api_key_create
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate

# The App page's inline of API keys (read-only) still posts its formset's management form.
NO_KEYS = {"api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0"}


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client()
    client.login(username="root", password="pw-for-tests-123")
    return client


def test_every_console_list_and_form_renders(admin_client_logged_in: Client) -> None:
    app = App.objects.create(name="acme")
    template = RecordTemplate.objects.create(app=app, name="t", mp4_enabled=True)
    Domain.objects.create(app=app, name="push.tv", push_auth_key="hidden-push-key", callback_key="hidden-cb-key")
    RecordRule.objects.create(app=app, template=template)
    for url in (
        "/admin/liverecord/app/",
        "/admin/liverecord/apikey/",
        "/admin/templates_app/recordtemplate/",
        "/admin/templates_app/recordtemplate/add/",
        "/admin/rules/domain/",
        "/admin/rules/domain/add/",
        "/admin/rules/recordrule/",
        "/admin/rules/storagetarget/",
        "/admin/rules/storagetarget/add/",
        f"/admin/rules/domain/{Domain.objects.get().pk}/change/",
        "/admin/liverecord/app/?q=ac",
        "/admin/rules/recordrule/?q=t",
    ):
        response = admin_client_logged_in.get(url)
        assert response.status_code == 200, url
        assert b"hidden-push-key" not in response.content and b"hidden-cb-key" not in response.content


def test_the_rule_tester_shows_the_winner(admin_client_logged_in: Client) -> None:
    app = App.objects.create(name="acme")
    general = RecordTemplate.objects.create(app=app, name="general")
    vip = RecordTemplate.objects.create(app=app, name="vip-template", flv_enabled=True)
    RecordRule.objects.create(app=app, template=general)
    RecordRule.objects.create(app=app, stream_name="vip", template=vip)
    response = admin_client_logged_in.get(
        "/admin/rules/recordrule/match/", {"app": app.pk, "domain": "push.tv", "app_name": "live", "stream_name": "vip"}
    )
    assert response.status_code == 200
    assert response.context["winner"].template == vip
    assert [level for _, level in response.context["candidates"]] == [4, 8]


def test_a_key_made_in_the_console_is_shown_once(admin_client_logged_in: Client) -> None:
    app = App.objects.create(name="acme")
    response = admin_client_logged_in.post(
        "/admin/liverecord/app/", {"action": "make_api_key", "_selected_action": [app.pk]}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("shown once: lr_" in m for m in messages)
    assert app.api_keys.count() == 1


def test_an_app_made_in_the_console_gets_its_first_key_shown_once(admin_client_logged_in: Client) -> None:
    response = admin_client_logged_in.post(
        "/admin/liverecord/app/add/", {"name": "acme", "is_active": "on"}, follow=True
    )
    assert response.status_code == 200
    app = App.objects.get()
    assert any("shown once: lr_" in str(m) for m in response.context["messages"])
    assert app.api_keys.count() == 1


def test_a_duplicate_app_name_is_a_form_error(admin_client_logged_in: Client) -> None:
    App.objects.create(name="acme")
    other = App.objects.create(name="globex")
    response = admin_client_logged_in.post(f"/admin/liverecord/app/{other.pk}/change/", {"name": "acme", **NO_KEYS})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["name"]
    assert App.objects.get(pk=other.pk).name == "globex"


def test_apps_and_keys_are_switched_off_not_deleted(admin_client_logged_in: Client) -> None:
    app = App.objects.create(name="acme")
    assert admin_client_logged_in.get(f"/admin/liverecord/app/{app.pk}/delete/").status_code == 403
    response = admin_client_logged_in.post(f"/admin/liverecord/app/{app.pk}/change/", {"name": "acme", **NO_KEYS})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert App.objects.get().is_active is False


def test_a_key_description_is_edited_through_the_service(admin_client_logged_in: Client) -> None:
    app = App.objects.create(name="acme")
    key, _ = api_key_create(app=app, description="old")
    response = admin_client_logged_in.post(f"/admin/liverecord/apikey/{key.pk}/change/", {"description": "ci"})
    assert response.status_code == 302
    key.refresh_from_db()
    assert (key.description, key.app) == ("ci", app)
    page = admin_client_logged_in.get(f"/admin/liverecord/app/{app.pk}/change/")
    assert b'name="api_keys-0-description"' not in page.content  # the App page's key list is read-only
