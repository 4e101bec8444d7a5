"""What each worker process does for operations, through Celery's signals (no per-packet work):

- a worker that consumes ``record`` also consumes ``record.<LIVEREC_INGEST_HOST>``, its ingest's own queue;
- every ``LIVEREC_CONSUMER_BEAT_SECONDS`` it says in the cache which queues it consumes (``/readyz`` reads it)
  and adds the process's CPU time since the last beat to ``liverecord_recorder_cpu_seconds_total``;
- each task's log lines carry the id of the session, record task or file it works on.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import AbstractContextManager
from typing import Any

from celery.signals import celeryd_after_setup, task_postrun, task_prerun, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections

from liverecord.ops.logs import log_context
from liverecord.ops.metrics import RECORDER_CPU
from liverecord.ops.queues import consumer_beat, consumer_leave

log = logging.getLogger(__name__)

#: task name → the log context field its first argument fills.
TASK_CONTEXT = {
    "liverecord.record_stream": "session",
    "liverecord.upload_file": "file",
    "liverecord.close_hls_playlist": "task",
    "liverecord.sync_hls": "task",
}


def ingest_queue() -> str:
    return f"record.{settings.LIVEREC_INGEST_HOST}"


@celeryd_after_setup.connect
def _consume_ingest_queue(sender: str, instance: Any, **kwargs: Any) -> None:
    queues = instance.app.amqp.queues
    if "record" in queues.consume_from and ingest_queue() not in queues.consume_from:
        queues.select_add(ingest_queue())


class _Beat(threading.Thread):
    def __init__(self, worker: str, queues: list[str]) -> None:
        super().__init__(name="liverecord-consumer-beat", daemon=True)
        self.worker, self.queues = worker, queues
        self.stopped = threading.Event()
        self._cpu = time.process_time()

    def beat(self) -> None:
        cpu = time.process_time()
        RECORDER_CPU.labels(settings.LIVEREC_INGEST_HOST).inc(max(0.0, cpu - self._cpu))
        self._cpu = cpu
        try:
            consumer_beat(self.worker, self.queues)
        except Exception as exc:  # noqa: BLE001 - any cache error (Redis, SQLite): the cache is down: readiness says so; try again next beat
            log.warning("consumer beat: %s", exc)
        finally:
            close_old_connections()

    def run(self) -> None:
        while True:
            self.beat()
            if self.stopped.wait(settings.LIVEREC_CONSUMER_BEAT_SECONDS):
                return


_beat: _Beat | None = None


@worker_ready.connect
def _start_beat(sender: Any, **kwargs: Any) -> None:
    global _beat
    queues = sorted(sender.app.amqp.queues.consume_from)
    _beat = _Beat(str(sender.hostname), queues)
    _beat.start()


@worker_shutdown.connect
def _stop_beat(sender: Any = None, **kwargs: Any) -> None:
    if _beat is None:
        return
    _beat.stopped.set()
    try:
        consumer_leave(_beat.worker, _beat.queues)
    except Exception as exc:  # noqa: BLE001 - any cache error: the entry expires by itself
        log.warning("consumer leave: %s", exc)


_task_contexts: dict[str, AbstractContextManager[None]] = {}


@task_prerun.connect
def _enter_log_context(task_id: str, task: Any, args: Any = None, **kwargs: Any) -> None:
    field = TASK_CONTEXT.get(task.name)
    if field and args:
        context = log_context(**{field: args[0]})
        context.__enter__()
        _task_contexts[task_id] = context


@task_postrun.connect
def _leave_log_context(task_id: str, **kwargs: Any) -> None:
    context = _task_contexts.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
