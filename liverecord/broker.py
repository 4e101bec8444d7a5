"""Broker plumbing: two kombu bugs that would make a worker die, worked around.

The embedded default's broker is kombu's filesystem transport, with messages written atomically: kombu's own
creates a message file and then writes it, so a consumer in another process can move and read it empty in
between (kombu issue #1551) and the worker dies on the decode error. Here a message is written to a temporary
file beside the queue folder and renamed into it, whole.
"""

from __future__ import annotations

import logging
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(os.path.dirname(os.path.abspath(self.data_folder_out)), "staging")
        os.makedirs(staging, exist_ok=True)
        temporary = os.path.join(staging, name)
        try:
            with open(temporary, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(temporary, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to {self.data_folder_out!r}") from exc


class Transport(filesystem.Transport):
    Channel = Channel


def patch_redis_transport() -> None:
    """A worker must outlive a Redis restart.

    kombu 5.7's Redis transport, when the broker connection drops, puts its unacknowledged messages back
    (``QoS.restore_unacked``) through the connection it has just released, and a task received before the drop
    acknowledges on it when it finishes (``QoS.ack``): both raise ``AttributeError`` on ``None``, which Celery
    takes for an unrecoverable error, and the worker exits with every recorder in it (found by
    ``tests/faults/test_restarts.py``). Nothing can be put back into a broker that is down; what stays
    unacknowledged is recovered by Redis's unacked index if it kept it, and by our own sweeps (the watchdog for
    recorders, the stuck-upload and callback sweeps) if not.
    """
    try:  # the Redis transport is optional: the embedded default runs without the redis client
        from kombu.transport import redis as kombu_redis  # noqa: PLC0415
        from kombu.transport import virtual  # noqa: PLC0415
    except ImportError:  # the redis client is not installed: no Redis broker
        return
    qos = kombu_redis.QoS
    if getattr(qos, "liverecord_patched", False):
        return
    restore_unacked, ack = qos.restore_unacked, qos.ack

    def safe_restore_unacked(self: Any, client: Any = None) -> None:
        try:
            restore_unacked(self, client)
        except AttributeError as exc:
            log.warning("broker connection gone while restoring unacknowledged messages (%s); left to recovery", exc)
            self._delivered.clear()

    def safe_ack(self: Any, delivery_tag: Any) -> None:
        try:
            ack(self, delivery_tag)
        except AttributeError as exc:
            # A task received before the broker restarted finished after it: its channel is gone.
            log.warning("cannot acknowledge a message of a closed broker connection (%s)", exc)
            virtual.QoS.ack(self, delivery_tag)

    qos.restore_unacked, qos.ack = safe_restore_unacked, safe_ack  # type: ignore[method-assign]
    qos.liverecord_patched = True  # type: ignore[attr-defined]
