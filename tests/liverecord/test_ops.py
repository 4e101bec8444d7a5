"""Health, readiness, metrics and log lines, in process (the servers stopped for real: tests/e2e/test_readiness.py)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import time
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from liverecord.ops.logs import log_context
from liverecord.ops.metrics import CALLBACK_ATTEMPTS, HOOK_LATENCY
from liverecord.ops.queues import consumer_beat, consumer_leave, queue_consumers


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_healthz_answers_without_touching_anything(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_needs_a_worker_on_this_ingest_queue(client: Client, settings: Any) -> None:
    settings.LIVEREC_INGEST_HOST = "host-a"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["workers"], body and body["code"] == "not_ready"
    assert body["errors"] == {"workers": ["workers: no worker consumes record.host-a"]}
    assert body["checks"]["database"] == body["checks"]["broker"] == body["checks"]["storage"] == "ok"

    consumer_beat("w1@box", ["record", "record.host-b"])  # another host's worker does not make this one ready
    assert client.get("/readyz").status_code == 503
    consumer_beat("w2@box", ["record", "record.host-a", "io"])
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ready",
        "failed": [],
        "checks": {"database": "ok", "broker": "ok", "storage": "ok", "workers": "ok"},
    }
    consumer_leave("w2@box", ["record", "record.host-a", "io"])
    assert client.get("/readyz").status_code == 503


@pytest.mark.django_db
def test_readyz_names_a_storage_folder_it_cannot_write(client: Client, settings: Any, tmp_path: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings.LIVEREC_MEDIA_DIR = blocker / "media"
    body = client.get("/readyz").json()
    assert "storage" in body["failed"] and body["checks"]["storage"].startswith(f"storage: {blocker / 'media'}")


def test_consumer_entries_expire_after_three_beats(settings: Any) -> None:
    settings.LIVEREC_CONSUMER_BEAT_SECONDS = 5
    consumer_beat("w@box", ["record.x"], now=1000.0)
    assert queue_consumers("record.x", now=1014.0) == ["w@box"]
    assert queue_consumers("record.x", now=1015.0) == []
    consumer_beat("v@box", ["record.x"], now=1010.0)
    assert queue_consumers("record.x", now=1012.0) == ["v@box", "w@box"]


@pytest.mark.django_db
def test_metrics_are_prometheus_text_with_the_families_spec_lists(client: Client) -> None:
    before = samples(client.get("/metrics").content.decode())
    HOOK_LATENCY.labels("srs").observe(0.003)
    CALLBACK_ATTEMPTS.labels("100").inc()
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    after = samples(response.content.decode())
    hook = ("liverecord_hook_duration_seconds_count", (("hook", "srs"),))
    assert after[hook] == before.get(hook, 0) + 1
    callbacks = ("liverecord_callback_attempts_total", (("event", "100"),))
    assert after[callbacks] == before.get(callbacks, 0) + 1
    names = {name for name, _ in after}
    for family in (
        "liverecord_live_sessions",
        "liverecord_running_recorders",
        "liverecord_spooled_bytes_total",
        "liverecord_callback_delivery_seconds_count",
        "liverecord_queue_depth",
        "liverecord_broker_up",
    ):
        assert family in names, family
    assert after[("liverecord_queue_depth", (("queue", "record"),))] >= 0


@pytest.mark.django_db
def test_metrics_token(client: Client, settings: Any) -> None:
    settings.LIVEREC_METRICS_TOKEN = "s3cret"
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json()["code"] == "not_authenticated"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def _configured(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    config = json.loads(json.dumps(django_settings.LOGGING))
    config["handlers"]["console"]["formatter"] = fmt
    logging.config.dictConfig(config)
    out = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    return logging.getLogger("recordings.test"), out


@pytest.fixture
def restore_logging() -> Any:
    yield
    logging.config.dictConfig(django_settings.LOGGING)


def test_json_log_lines_carry_the_ids_they_concern(restore_logging: None) -> None:
    logger, out = _configured("json")
    with log_context(session=12, task="t-abc"):
        logger.warning("file %s stored", "a.mp4", extra={"file": 7})
    logger.info("no context")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "recordings.test"
    assert first["message"] == "file a.mp4 stored"
    assert (first["session"], first["task"], first["file"]) == (12, "t-abc", 7)
    assert time.strptime(first["time"], "%Y-%m-%dT%H:%M:%S%z")
    assert "session" not in second and second["message"] == "no context"


def test_plain_log_lines_are_one_line_per_event(restore_logging: None) -> None:
    logger, out = _configured("plain")
    with log_context(session=3):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("recorder failed")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert " ERROR recordings.test recorder failed" in lines[0] and "ValueError: boom" in lines[0]
    assert lines[0].endswith(" session=3")


def test_log_context_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown log context field"), log_context(stream="x"):
        pass
