"""``/metrics`` after a real push: nginx-rtmp's hooks, the recorder, the uploads and the callbacks all counted.

The web (live server) and the worker run in this process here; tests/e2e/test_readiness.py runs them as separate
processes. What the scrape reads is prometheus-client's multiprocess folder, as in production.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from liverecord.models import App
from recordings.choices import DeliveryStatus, FileStatus
from recordings.models import CallbackDelivery, RecordFile
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.support.hook_receiver import HookReceiver
from tests.support.media import push_generated

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text[:300]
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_counters_after_a_real_push(live_server: Any, ingest: Any) -> None:
    app = App.objects.create(name="e2e-metrics")
    with HookReceiver(status=200) as receiver:
        Domain.objects.create(app=app, name="127.0.0.1", callback_url=receiver.url("/cb"), callback_key="k")
        template = RecordTemplate.objects.create(
            app=app, name="t", mp4_enabled=True, mp4_record_interval=3600, flv_enabled=True, flv_record_interval=3600
        )
        RecordRule.objects.create(app=app, template=template)
        before = scrape(live_server.url)

        publisher = push_generated(ingest.rtmp_url("metrics"), seconds=8)
        live = wait_until(
            lambda: (s := scrape(live_server.url))[("liverecord_live_sessions", ())] >= 1 and s, 10, "a live session"
        )
        assert live[("liverecord_recordings", (("kind", "rule"),))] >= 1
        assert publisher.wait(timeout=30) == 0
        wait_until(lambda: RecordFile.objects.filter(status=FileStatus.STORED).count() == 2, 40, "two stored files")
        wait_until(
            lambda: (
                not CallbackDelivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()
                and CallbackDelivery.objects.count() >= 4
            ),
            30,
            "every callback delivered",
        )
        after = scrape(live_server.url)

    assert grew(before, after, "liverecord_hook_duration_seconds_count", hook="nginx-rtmp") >= 2  # publish, done
    assert grew(before, after, "liverecord_upload_attempts_total", format="mp4") == 1
    assert grew(before, after, "liverecord_upload_attempts_total", format="flv") == 1
    assert grew(before, after, "liverecord_upload_failures_total", format="mp4") == 0
    delivered = CallbackDelivery.objects.count()
    assert grew(before, after, "liverecord_callback_attempts_total", event="100") == 2
    events = {dict(labels)["event"] for name, labels in after if name == "liverecord_callback_attempts_total"}
    assert {"0", "1", "100"} <= events
    assert sum(grew(before, after, "liverecord_callback_attempts_total", event=e) for e in events) == delivered
    assert grew(before, after, "liverecord_callback_delivery_seconds_count") == delivered
    # 8 s of the generated stream is a few hundred kB: the spool counted it (the last beat may miss the tail).
    spooled = grew(before, after, "liverecord_spooled_bytes_total")
    assert spooled > 100_000, spooled
    assert after[("liverecord_files", (("format", "mp4"), ("status", "stored")))] == 1
    assert after[("liverecord_live_sessions", ())] == 0
    assert after[("liverecord_broker_up", ())] == 1
