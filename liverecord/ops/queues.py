"""The broker as operations sees it: does it answer, how many messages wait in each queue, who consumes what.

Workers say which queues they consume by leaving a short-lived entry in the shared cache every
``LIVEREC_CONSUMER_BEAT_SECONDS`` (``consumer_beat``); readiness reads it (``queue_consumers``) instead of asking
every worker over the broker (``inspect active_queues`` waits for the slowest worker: too slow for a probe).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from kombu.exceptions import ChannelError
from kombu.exceptions import OperationalError as KombuOperationalError

from liverecord.celery import app

#: What a broker that is down or unreachable raises through kombu.
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, ChannelError, OSError, TimeoutError)

__all__ = ["BROKER_ERRORS", "broker_ping", "consumer_beat", "consumer_leave", "queue_consumers", "queue_depths"]

#: How long a probe waits for the broker before it calls it down.
BROKER_TIMEOUT_SECONDS = 2


def broker_ping() -> None:
    """Raise when the broker does not answer within ``BROKER_TIMEOUT_SECONDS``."""
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
        connection.default_channel  # noqa: B018 - opening a channel is the round trip that proves it answers


def queue_depths(names: Iterable[str]) -> dict[str, int]:
    """Messages waiting in each queue (declared passively: asking never creates a queue)."""
    depths: dict[str, int] = {}
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
        channel: Any = connection.default_channel  # a kombu virtual channel: it has queue_declare
        for name in names:
            try:
                depths[name] = int(channel.queue_declare(queue=name, passive=True).message_count)
            except ChannelError:  # a queue nobody declared yet holds nothing
                depths[name] = 0
    return depths


def _key(queue: str) -> str:
    return f"ops:consumers:{queue}"


def consumer_beat(worker: str, queues: Iterable[str], *, now: float | None = None) -> None:
    """This worker consumes these queues (for three beats from now)."""
    now = time.time() if now is None else now
    ttl = 3 * settings.LIVEREC_CONSUMER_BEAT_SECONDS
    for queue in queues:
        entries = {w: until for w, until in (cache.get(_key(queue)) or {}).items() if until > now}
        entries[worker] = now + ttl
        cache.set(_key(queue), entries, timeout=ttl)


def consumer_leave(worker: str, queues: Iterable[str]) -> None:
    """This worker stops (a warm shutdown): it no longer counts as a consumer."""
    for queue in queues:
        entries = dict(cache.get(_key(queue)) or {})
        entries.pop(worker, None)
        cache.set(_key(queue), entries, timeout=3 * settings.LIVEREC_CONSUMER_BEAT_SECONDS)


def queue_consumers(queue: str, *, now: float | None = None) -> list[str]:
    """The workers that said within three beats that they consume ``queue``."""
    now = time.time() if now is None else now
    return sorted(w for w, until in (cache.get(_key(queue)) or {}).items() if until > now)
