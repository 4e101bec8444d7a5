"""Prometheus metrics of a host: web and worker processes together (SPEC.md "Operations").

Counters and histograms are written by whichever process counts them (the hook in web, uploads, callbacks and
recorders in workers) into prometheus-client's multiprocess files under ``PROMETHEUS_MULTIPROC_DIR`` (settings
set it under ``var/metrics`` before this module is imported); a scrape of ``/metrics`` on any web process of the
host sums every file. What is a state rather than a count (live sessions, running recorders, files by status,
queue depth) is read at scrape time from the database and the broker, so it is the same whichever host answers.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from liverecord.ops.queues import BROKER_ERRORS, queue_depths

__all__ = [
    "BYTES_SPOOLED",
    "CALLBACK_ATTEMPTS",
    "CALLBACK_FAILURES",
    "CALLBACK_LATENCY",
    "HOOK_LATENCY",
    "MIXER_LAG",
    "RECORDER_CPU",
    "UPLOAD_ATTEMPTS",
    "UPLOAD_FAILURES",
    "QueueDepthCollector",
    "metrics_response",
]

if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:  # pragma: no cover - settings always set it
    raise RuntimeError("liverecord.ops.metrics imported before the settings set PROMETHEUS_MULTIPROC_DIR")

HOOK_LATENCY = Histogram(
    "liverecord_hook_duration_seconds",
    "Time the ingest hook took to answer, by hook (nginx-rtmp, srs).",
    ["hook"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BYTES_SPOOLED = Counter("liverecord_spooled_bytes", "Bytes of live streams read into recorder spools.")
RECORDER_CPU = Counter(
    "liverecord_recorder_cpu_seconds",
    "CPU time of the worker processes (their recorders, packagers and uploads), by ingest host.",
    ["host"],
)
UPLOAD_ATTEMPTS = Counter("liverecord_upload_attempts", "Uploads of a file to its storage tried.", ["format"])
UPLOAD_FAILURES = Counter("liverecord_upload_failures", "Uploads of a file to its storage that failed.", ["format"])
CALLBACK_ATTEMPTS = Counter("liverecord_callback_attempts", "Callback POSTs tried, by event type.", ["event"])
CALLBACK_FAILURES = Counter("liverecord_callback_failures", "Callback POSTs that failed, by event type.", ["event"])
CALLBACK_LATENCY = Histogram(
    "liverecord_callback_delivery_seconds",
    "From a callback's event to its receiver's 2xx (retries included).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 300.0, 1800.0, 3600.0),
)
MIXER_LAG = Gauge(
    "liverecord_mixer_lag_seconds",
    "How far a mixer runs behind its room's live streams (the latest value any mixer reported).",
    ["room"],
    multiprocess_mode="mostrecent",
)


class QueueDepthCollector(Collector):
    """``liverecord_queue_depth{queue}`` and ``liverecord_broker_up``, asked of the broker at scrape time."""

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("liverecord_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
        up = GaugeMetricFamily("liverecord_broker_up", "1 when the broker answered this scrape.")
        try:
            depths = queue_depths(_queue_names())
        except BROKER_ERRORS:
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
            for name, count in depths.items():
                depth.add_metric([name], count)
        yield depth
        yield up


def _queue_names() -> list[str]:
    return ["record", f"record.{settings.LIVEREC_INGEST_HOST}", "io", "default"]


def _token_ok(request: HttpRequest) -> bool:
    token = str(settings.LIVEREC_METRICS_TOKEN or "")
    if not token:
        return True
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics_response(request: HttpRequest, collectors: Iterable[Callable[[], Collector]] = ()) -> HttpResponse:
    """The host's metrics in Prometheus text format; 401 without the token when ``LIVEREC_METRICS_TOKEN`` is set."""
    if not _token_ok(request):
        return JsonResponse(
            {"code": "not_authenticated", "message": "metrics need Authorization: Bearer <token>", "errors": {}},
            status=401,
        )
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(QueueDepthCollector())
    for make in collectors:
        registry.register(make())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
