from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from recordings.models import PublishSession
from recordings.services import PushInfo, session_open
from rules.models import Domain
from tests.conftest import Tenant


@pytest.fixture
def no_recorder() -> Iterator[Any]:
    """The recorder and callback jobs are Celery tasks; here only what is enqueued matters (e2e runs them)."""
    with mock.patch("recordings.dispatch.send_now") as send:
        yield send


@pytest.fixture
def domain(tenant: Tenant) -> Domain:
    return Domain.objects.create(app=tenant.app, name="push.example.com", callback_url="http://127.0.0.1:9/cb")


def push(stream: str, query: str = "", host: str = "push.example.com") -> PublishSession:
    """What the nginx-rtmp hook does on publish, with the push query's arguments."""
    params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
    return session_open(
        push=PushInfo(
            host=host,
            app_name="live",
            stream_name=stream,
            params=params,
            stream_param=query,
            client_addr="127.0.0.1",
            client_id=stream,
            ingest="127.0.0.1:1935",
        )
    )
