"""The state half of ``/metrics``: what is live and stored now, counted in the database at scrape time.

The counting half (hook latency, uploads, callbacks, spooled bytes, CPU) is in ``liverecord.ops.metrics``.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from liverecord.ops.metrics import metrics_response
from recordings.choices import FINAL_TASK_STATUSES, FileStatus, RecorderStatus, SessionStatus
from recordings.models import PublishSession, RecordFile, RecordTask

__all__ = ["LiveStateCollector", "metrics"]

#: File states a dashboard watches (the others are transient or final and uninteresting to alert on).
WATCHED_FILE_STATUSES = (FileStatus.STORED, FileStatus.FAILED, FileStatus.BACKUP)


class LiveStateCollector(Collector):
    """``liverecord_live_sessions``, ``liverecord_running_recorders``, ``liverecord_recordings{kind}``,
    ``liverecord_files{format,status}``: a few indexed counts."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        live = PublishSession.objects.filter(status=SessionStatus.LIVE)
        yield GaugeMetricFamily("liverecord_live_sessions", "Pushes live now.", value=live.count())
        yield GaugeMetricFamily(
            "liverecord_running_recorders",
            "Recorders running now (sessions whose recorder state is running).",
            value=PublishSession.objects.filter(recorder_status=RecorderStatus.RUNNING).count(),
        )
        kinds = GaugeMetricFamily("liverecord_recordings", "Record tasks not finished yet, by kind.", labels=["kind"])
        running = RecordTask.objects.exclude(status__in=FINAL_TASK_STATUSES)
        for kind, n in running.values("kind").annotate(n=Count("id")).values_list("kind", "n"):
            kinds.add_metric([kind], n)
        yield kinds
        files = GaugeMetricFamily(
            "liverecord_files", "Recorded files stored, failed or in backup, by format.", labels=["format", "status"]
        )
        rows = RecordFile.objects.filter(status__in=WATCHED_FILE_STATUSES).values("format", "status")
        for fmt, status, n in rows.annotate(n=Count("id")).values_list("format", "status", "n"):
            files.add_metric([fmt, status], n)
        yield files


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format for the whole host (SPEC.md "Operations")."""
    return metrics_response(request, [LiveStateCollector])
