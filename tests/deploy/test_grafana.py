"""The example Grafana dashboard is built on the metrics ``/metrics`` really serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

from liverecord.ops import metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "liverecord.json"
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


@pytest.mark.django_db
def test_every_panel_queries_a_family_the_service_serves(client: Client) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    # What a scrape shows now, and what the processes count (a labelled family shows once something is counted).
    served = {family.name for family in text_string_to_metric_families(client.get("/metrics").content.decode())}
    served |= {m._name for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)}
    queried: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            for name in re.findall(r"\bliverecord_[a-z_]+", target["expr"]):
                for suffix in SUFFIXES:
                    name = name.removesuffix(suffix)
                queried.add(name)
    assert queried - served == set()
    # Every family SPEC.md lists has a panel (the labelled counters show up once something is counted).
    assert queried >= {
        "liverecord_live_sessions",
        "liverecord_running_recorders",
        "liverecord_recordings",
        "liverecord_spooled_bytes",
        "liverecord_files",
        "liverecord_upload_attempts",
        "liverecord_upload_failures",
        "liverecord_callback_attempts",
        "liverecord_callback_failures",
        "liverecord_callback_delivery_seconds",
        "liverecord_hook_duration_seconds",
        "liverecord_recorder_cpu_seconds",
        "liverecord_mixer_lag_seconds",
        "liverecord_queue_depth",
    }
