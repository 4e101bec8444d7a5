"""The Celery app: queues ``record.<ingest host>`` and ``record`` (stream recorders), ``io`` (uploads, callbacks) and
``default`` (beat work)."""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings
from kombu import Queue

from liverecord.broker import patch_redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverecord.settings")

patch_redis_transport()
app = Celery("liverecord")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("record"), Queue("io"), Queue("default"))


@app.on_after_configure.connect
def _ingest_queue(sender: Celery, **kwargs: object) -> None:
    """``record.<LIVEREC_INGEST_HOST>``: the recorders of the pushes this host's ingest received (SPEC.md
    "Operations"). Known once the settings are read; a worker started with ``-Q record,...`` adds it too
    (``workers.ops_hooks``)."""
    queue = f"record.{settings.LIVEREC_INGEST_HOST}"
    if all(q.name != queue for q in sender.conf.task_queues):
        sender.conf.task_queues = (*sender.conf.task_queues, Queue(queue))


app.autodiscover_tasks(["workers"])
