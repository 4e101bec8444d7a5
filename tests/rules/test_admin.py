"""The console's writes on domains, storage targets and rules go through the services: what the services refuse is
a form error on the page (200), never a 500, and what they do (renaming a domain's rules) happens."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from liverecord.models import App
from rules.models import Domain, RecordRule, StorageTarget
from templates_app.models import RecordTemplate

pytestmark = pytest.mark.django_db

SOURCE = "rtmp://{ingest}/{app}/{stream}"


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client(raise_request_exception=True)
    client.login(username="root", password="pw-for-tests-123")
    return client


@pytest.fixture
def app() -> App:
    return App.objects.create(name="acme")


@pytest.fixture
def other() -> App:
    return App.objects.create(name="globex")


def domain_form(app: App, **fields: Any) -> dict[str, Any]:
    return {"app": app.pk, "name": "push.tv", "source_url_template": SOURCE, "lookback_seconds": 0, **fields}


def form_errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    form = response.context["adminform"].form
    return {key: [str(m) for m in messages] for key, messages in form.errors.items()}


def test_renaming_a_domain_in_the_console_renames_its_rules(console: Client, app: App) -> None:
    domain = Domain.objects.create(app=app, name="old.tv")
    template = RecordTemplate.objects.create(app=app, name="t", mp4_enabled=True)
    rule = RecordRule.objects.create(app=app, domain="old.tv", app_name="live", template=template)
    response = console.post(f"/admin/rules/domain/{domain.pk}/change/", domain_form(app, name="New.TV"))
    assert response.status_code == 302, form_errors(response)
    rule.refresh_from_db()
    assert (Domain.objects.get().name, rule.domain) == ("new.tv", "new.tv")


def test_push_auth_cannot_be_enabled_without_a_key(console: Client, app: App) -> None:
    response = console.post("/admin/rules/domain/add/", domain_form(app, push_auth_enabled="on"))
    assert "is required when push_auth_enabled is true" in form_errors(response)["push_auth_key"][0]
    assert not Domain.objects.exists()


def test_an_empty_secret_keeps_the_stored_key(console: Client, app: App) -> None:
    domain = Domain.objects.create(app=app, name="push.tv", push_auth_enabled=True, push_auth_key="stored-key-123")
    response = console.post(
        f"/admin/rules/domain/{domain.pk}/change/", domain_form(app, push_auth_enabled="on", push_auth_key="")
    )
    assert response.status_code == 302, form_errors(response)
    assert Domain.objects.get().push_auth_key == "stored-key-123"
    assert b"stored-key-123" not in console.get(f"/admin/rules/domain/{domain.pk}/change/").content


def test_another_apps_storage_target_cannot_be_chosen(console: Client, app: App, other: App) -> None:
    theirs = StorageTarget.objects.create(app=other, name="theirs")
    response = console.post("/admin/rules/domain/add/", domain_form(app, storage=theirs.pk))
    assert form_errors(response)["storage"] == ["does not exist in this app"]
    assert not Domain.objects.exists()


def test_a_duplicate_domain_is_a_form_error(console: Client, app: App, other: App) -> None:
    Domain.objects.create(app=other, name="push.tv")
    response = console.post("/admin/rules/domain/add/", domain_form(app, name="PUSH.tv"))
    assert "already registered" in form_errors(response)["name"][0]


def test_a_domain_used_by_rules_is_not_deleted(console: Client, app: App) -> None:
    domain = Domain.objects.create(app=app, name="push.tv")
    RecordRule.objects.create(app=app, domain="push.tv", template=RecordTemplate.objects.create(app=app, name="t"))
    response = console.post(f"/admin/rules/domain/{domain.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert Domain.objects.exists()
    assert any("used by 1 rule" in str(m) for m in response.context["messages"])


def test_the_app_of_a_domain_is_fixed_once_it_exists(console: Client, app: App, other: App) -> None:
    domain = Domain.objects.create(app=app, name="push.tv")
    response = console.post(f"/admin/rules/domain/{domain.pk}/change/", domain_form(other, lookback_seconds=30))
    assert response.status_code == 302, form_errors(response)
    domain.refresh_from_db()
    assert (domain.app, domain.lookback_seconds) == (app, 30)


def test_a_rule_cannot_bind_another_apps_template(console: Client, app: App, other: App) -> None:
    theirs = RecordTemplate.objects.create(app=other, name="theirs")
    response = console.post(
        "/admin/rules/recordrule/add/",
        {"app": app.pk, "domain": "", "app_name": "live", "stream_name": "", "template": theirs.pk},
    )
    assert form_errors(response)["template"] == ["does not exist in this app"]
    assert not RecordRule.objects.exists()


def test_a_rule_for_a_domain_of_another_app_is_refused(console: Client, app: App, other: App) -> None:
    Domain.objects.create(app=other, name="theirs.tv")
    mine = RecordTemplate.objects.create(app=app, name="t")
    response = console.post(
        "/admin/rules/recordrule/add/",
        {"app": app.pk, "domain": "theirs.tv", "app_name": "", "stream_name": "", "template": mine.pk},
    )
    assert "is not a push domain of this app" in form_errors(response)["domain"][0]


def test_a_duplicate_rule_is_a_form_error(console: Client, app: App) -> None:
    template = RecordTemplate.objects.create(app=app, name="t")
    RecordRule.objects.create(app=app, app_name="live", template=template)
    response = console.post(
        "/admin/rules/recordrule/add/",
        {"app": app.pk, "domain": "", "app_name": "live", "stream_name": "", "template": template.pk},
    )
    assert "already exists" in form_errors(response)["__all__"][0]


def test_an_s3_target_needs_a_bucket(console: Client, app: App) -> None:
    response = console.post(
        "/admin/rules/storagetarget/add/",
        {"app": app.pk, "name": "s3", "provider": "s3", "prefix": "liverecord", "presign_seconds": 3600},
    )
    assert form_errors(response)["bucket"] == ["is required for provider s3"]
    assert not StorageTarget.objects.exists()


def test_a_storage_target_is_created_and_its_secret_kept(console: Client, app: App) -> None:
    fields = {
        "app": app.pk,
        "name": "s3",
        "provider": "s3",
        "bucket": "my-bucket",
        "prefix": "liverecord",
        "presign_seconds": 3600,
        "secret_access_key": "the-secret",
    }
    assert console.post("/admin/rules/storagetarget/add/", fields).status_code == 302
    target = StorageTarget.objects.get()
    response = console.post(
        f"/admin/rules/storagetarget/{target.pk}/change/", {**fields, "secret_access_key": "", "prefix": "other"}
    )
    assert response.status_code == 302, form_errors(response)
    target.refresh_from_db()
    assert (target.prefix, target.secret_access_key) == ("other", "the-secret")
