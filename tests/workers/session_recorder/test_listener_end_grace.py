"""At a push's end, a recorder pulling over RTMP is stopped after a grace; one that reads the ingest's record
file is left to read it to its last byte, however far behind an overloaded box left it (issue 17)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from recordings.choices import SessionStatus
from recordings.models import PublishSession
from tests.conftest import Tenant
from workers.session_recorder import listener as listener_module
from workers.session_recorder.listener import END_GRACE_SECONDS, SessionListener

pytestmark = pytest.mark.django_db


@dataclass
class FakeRecorder:
    follows_ingest_record: bool
    stopped: bool = False

    def stop(self) -> None:
        self.stopped = True


@pytest.mark.parametrize(("follows", "stopped"), [(False, True), (True, False)])
def test_only_an_rtmp_pull_is_stopped_after_the_end_grace(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, follows: bool, stopped: bool
) -> None:
    session = PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name="s1",
        started_at=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/s1",
        status=SessionStatus.ENDED,
    )
    clock = {"now": 1000.0}
    monkeypatch.setattr(listener_module.time, "monotonic", lambda: clock["now"])
    listener = SessionListener(session, {})
    recorder: Any = FakeRecorder(follows_ingest_record=follows)
    listener.recorder = recorder
    listener._follow_rows()
    assert not recorder.stopped, "the end is first only noticed"
    clock["now"] += END_GRACE_SECONDS + 0.1
    listener._follow_rows()
    assert recorder.stopped is stopped
