"""A worker must outlive a Redis restart.

kombu 5.7's Redis transport, when the broker connection drops, closes the channel and puts its unacknowledged
messages back (``QoS.restore_unacked``) through a connection it has just released: ``AttributeError`` on
``None.hostname``, which Celery takes for an unrecoverable error, and the worker exits with every recorder in it
(seen in ``tests/faults/test_restarts.py``). Nothing can be put back into a broker that is down anyway; what
was unacknowledged stays in Redis's unacked index (restored by kombu once it is back, if Redis kept it) or is
recovered by our own sweeps (the watchdog for recorders, the stuck-upload and callback sweeps).
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def patch_redis_transport() -> None:
    try:
        from kombu.transport import redis as kombu_redis
        from kombu.transport import virtual
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

    qos.restore_unacked, qos.ack = safe_restore_unacked, safe_ack
    qos.liverecord_patched = True
