"""``callbacks_resend_due``: beat sends again the deliveries whose retry message was lost, and only those."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from recordings.choices import CallbackEvent, DeliveryStatus
from recordings.dispatch import DELIVER_CALLBACK
from recordings.models import CallbackDelivery
from recordings.services import callbacks_resend_due
from tests.conftest import Tenant

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Iterator[mock.MagicMock]:
    """What the service hands to the broker (the seam of ``recordings.dispatch``)."""
    with mock.patch("recordings.dispatch.send_now") as send:
        yield send


def delivery(tenant: Tenant, *, due_ago: float, status: str = DeliveryStatus.PENDING, **fields: Any) -> int:
    row = CallbackDelivery.objects.create(
        app=tenant.app,
        event_type=CallbackEvent.FILE_STORED,
        url="http://127.0.0.1:9/cb",
        body={"event_type": 100},
        status=status,
        next_attempt_at=NOW - timedelta(seconds=due_ago),
        **fields,
    )
    return row.pk


def test_only_pending_deliveries_overdue_by_a_minute_are_sent_again(
    tenant: Tenant, sent: mock.MagicMock, django_capture_on_commit_callbacks: Any
) -> None:
    lost = delivery(tenant, due_ago=61)
    delivery(tenant, due_ago=30)  # its retry message may still be on its way
    delivery(tenant, due_ago=600, status=DeliveryStatus.DELIVERED)
    delivery(tenant, due_ago=600, status=DeliveryStatus.FAILED)
    delivery(tenant, due_ago=600, lease_until=NOW + timedelta(seconds=5))  # an attempt is POSTing it now
    with django_capture_on_commit_callbacks(execute=True):
        assert callbacks_resend_due(now=NOW) == 1
    sent.assert_called_once_with(DELIVER_CALLBACK, lost, countdown=0.0)


def test_nothing_due_sends_nothing(tenant: Tenant, sent: mock.MagicMock) -> None:
    delivery(tenant, due_ago=-300)  # its next attempt is in five minutes
    assert callbacks_resend_due(now=NOW) == 0
    assert sent.call_count == 0


def test_a_resend_is_sent_after_the_commit(
    tenant: Tenant, sent: mock.MagicMock, django_capture_on_commit_callbacks: Any
) -> None:
    """A worker must find the row as the sweep left it: the message leaves when the transaction commits."""
    delivery(tenant, due_ago=120)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert callbacks_resend_due(now=NOW) == 1
    assert sent.call_count == 0 and len(queued) == 1
