"""The Celery app: queues ``record`` (stream recorders), ``io`` (uploads, callbacks) and ``default`` (beat work)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liverecord.settings")

app = Celery("liverecord")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("record"), Queue("io"), Queue("default"))
app.autodiscover_tasks(["workers"])
