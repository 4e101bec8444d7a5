"""``make demo``'s setup: its own App, or, when another App owns 127.0.0.1, that App, and it says so."""

from __future__ import annotations

import pytest

from liverecord.models import App
from recordings.management.commands.demo import demo_setup
from rules.models import Domain, RecordRule
from rules.selectors import rule_match

pytestmark = pytest.mark.django_db


def test_the_demo_uses_its_own_app_on_a_fresh_service() -> None:
    app, notes = demo_setup(stream="demo")
    assert app.name == "demo"
    assert Domain.objects.get(name="127.0.0.1").app == app
    rule = rule_match(app=app, domain="127.0.0.1", app_name="live", stream_name="demo")
    assert rule is not None and set(rule.template.enabled_formats) == {"flv", "hls", "mp4", "aac", "mp3"}
    assert not any("belongs to" in note for note in notes)
    assert demo_setup(stream="demo")[0] == app  # a second run changes nothing
    assert RecordRule.objects.count() == 1


def test_the_demo_says_so_when_another_app_owns_the_push_domain() -> None:
    acme = App.objects.create(name="acme")
    Domain.objects.create(app=acme, name="127.0.0.1")
    app, notes = demo_setup(stream="demo")
    assert app == acme
    assert App.objects.filter(name="demo").exists()
    assert "push domain 127.0.0.1 belongs to App 'acme'" in notes[0]
    assert rule_match(app=acme, domain="127.0.0.1", app_name="live", stream_name="demo") is not None
