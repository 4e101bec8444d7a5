"""The liverecord project: settings, urls, the Celery app, tenancy and shared API plumbing."""

from liverecord.celery import app as celery_app

__all__ = ["celery_app"]
