from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import override_settings

from workers.session_recorder import until_database_answers

pytestmark = pytest.mark.django_db


def test_a_write_waits_out_a_database_outage() -> None:
    calls: list[int] = []

    def write() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")

    until_database_answers(write, "a test write")
    assert len(calls) == 3


@override_settings(LIVEREC_DB_OUTAGE_SECONDS=1)
def test_a_write_gives_up_after_the_outage_budget() -> None:
    def write() -> None:
        raise OperationalError("still down")

    with pytest.raises(OperationalError):
        until_database_answers(write, "a test write")
