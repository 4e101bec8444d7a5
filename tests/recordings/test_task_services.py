"""Record task services check the App of every object handed to them, and store domain names lower-cased."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from liverecord.models import App
from recordings.models import RecordTask
from recordings.services import task_create_highlight, task_create_scheduled
from rules.models import Domain
from templates_app.models import RecordTemplate

pytestmark = pytest.mark.django_db


@pytest.fixture
def app() -> App:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="push.tv")
    return app


@pytest.fixture
def theirs() -> RecordTemplate:
    return RecordTemplate.objects.create(app=App.objects.create(name="globex"), name="theirs", mp4_enabled=True)


def test_a_scheduled_task_cannot_use_another_apps_template(app: App, theirs: RecordTemplate) -> None:
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        task_create_scheduled(
            app=app,
            domain="push.tv",
            app_name="live",
            stream_name="s",
            end_time=now + timedelta(hours=1),
            template=theirs,
        )
    assert refused.value.message_dict == {"template": ["does not exist in this app"]}
    assert not RecordTask.objects.exists()


def test_a_highlight_cannot_use_another_apps_template(app: App, theirs: RecordTemplate) -> None:
    with pytest.raises(ValidationError) as refused:
        task_create_highlight(app=app, domain="push.tv", app_name="live", stream_name="s", template=theirs)
    assert "template" in refused.value.message_dict


def test_a_task_stores_the_domain_lower_cased(app: App) -> None:
    now = timezone.now()
    task = task_create_scheduled(
        app=app, domain="Push.TV", app_name="live", stream_name="s", end_time=now + timedelta(hours=1), now=now
    )
    assert task.domain == "push.tv"
