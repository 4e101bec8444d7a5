"""The Celery app: queues ``record`` (stream recorders), ``io`` (uploads, callbacks) and ``default`` (beat work)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

from liverecord.broker import patch_redis_transport

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverecord.settings")

patch_redis_transport()
app = Celery("liverecord")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("record"), Queue("io"), Queue("default"))
app.autodiscover_tasks(["workers"])
