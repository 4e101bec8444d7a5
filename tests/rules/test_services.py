"""The writes on domains, storage targets and rules, called directly (the API and the admin both call these)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from liverecord.errors import ConflictError
from liverecord.models import App
from rules.models import Domain, RecordRule, StorageTarget
from rules.selectors import rule_match
from rules.services import domain_create, domain_delete, domain_update, rule_create, storage_target_create
from templates_app.models import RecordTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> App:
    return App.objects.create(name="acme")


@pytest.fixture
def other() -> App:
    return App.objects.create(name="globex")


def test_renaming_a_domain_renames_its_rules_so_they_keep_matching(app: App, other: App) -> None:
    domain = domain_create(app=app, name="old.example.com")
    template = RecordTemplate.objects.create(app=app, name="t", mp4_enabled=True)
    rule = rule_create(app=app, template=template, domain="old.example.com", app_name="live")
    any_domain = rule_create(app=app, template=template, domain="", app_name="live", stream_name="x")
    # Another App's rule cannot name this domain, but a stale row must not be touched either.
    foreign = RecordRule.objects.create(
        app=other, domain="old.example.com", template=RecordTemplate.objects.create(app=other, name="t")
    )

    domain_update(instance=domain, name="New.Example.com")

    rule.refresh_from_db()
    assert (Domain.objects.get(pk=domain.pk).name, rule.domain) == ("new.example.com", "new.example.com")
    assert rule_match(app=app, domain="new.example.com", app_name="live", stream_name="demo") == rule
    assert RecordRule.objects.get(pk=any_domain.pk).domain == ""
    assert RecordRule.objects.get(pk=foreign.pk).domain == "old.example.com"


def test_a_rename_refused_leaves_the_rules_alone(app: App) -> None:
    domain_create(app=app, name="taken.example.com")
    domain = domain_create(app=app, name="old.example.com")
    template = RecordTemplate.objects.create(app=app, name="t")
    rule = rule_create(app=app, template=template, domain="old.example.com")
    with pytest.raises(ConflictError):
        domain_update(instance=domain, name="TAKEN.example.com")
    assert RecordRule.objects.get(pk=rule.pk).domain == "old.example.com"


def test_push_auth_cannot_be_enabled_without_a_key(app: App) -> None:
    with pytest.raises(ValidationError) as refused:
        domain_create(app=app, name="push.tv", push_auth_enabled=True)
    assert "push_auth_key" in refused.value.message_dict


def test_a_domain_cannot_use_another_apps_storage_target(app: App, other: App) -> None:
    foreign = storage_target_create(app=other, name="theirs")
    with pytest.raises(ValidationError) as refused:
        domain_create(app=app, name="push.tv", storage=foreign)
    assert "storage" in refused.value.message_dict
    assert not Domain.objects.exists()


def test_a_rule_cannot_use_another_apps_template(app: App, other: App) -> None:
    with pytest.raises(ValidationError) as refused:
        rule_create(app=app, template=RecordTemplate.objects.create(app=other, name="theirs"))
    assert "template" in refused.value.message_dict


def test_a_domain_used_by_rules_is_not_deleted(app: App) -> None:
    domain = domain_create(app=app, name="push.tv")
    rule_create(app=app, template=RecordTemplate.objects.create(app=app, name="t"), domain="push.tv")
    with pytest.raises(ConflictError):
        domain_delete(instance=domain)
    assert StorageTarget.objects.count() == 0 and Domain.objects.count() == 1
