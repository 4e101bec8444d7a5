"""The kernel tells a dead recorder at once: its spool lock goes with its process, and the watchdog reads that."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from liverecord.models import App
from recordings.choices import RecorderStatus
from recordings.models import PublishSession
from recordings.services import recorders_reclaim
from workers.spool_lock import LOCK_NAME, spool_fence, spool_held

HOLDER = """
import fcntl, sys, time
handle = open(sys.argv[1], "w")
fcntl.flock(handle, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(600)
"""


def hold_lock(spool_dir: Path) -> subprocess.Popen[str]:
    """Another process holding the spool's lock, like a recorder in a worker."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(spool_dir / LOCK_NAME)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def test_held_while_the_holder_lives_and_free_the_moment_it_is_killed(tmp_path: Path, holders: list) -> None:
    spool = tmp_path / "session"
    assert spool_held(spool) is None, "no spool on this host: cannot tell"
    holders.append(holder := hold_lock(spool))
    assert spool_held(spool) is True
    with spool_fence(spool) as alone:
        assert alone is False, "a second recorder is kept out"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert spool_held(spool) is False
    with spool_fence(spool) as alone:
        assert alone is True
        assert spool_held(spool) is True, "the successor's own lock is seen"


def running_session(app: App, heartbeat_age: float) -> PublishSession:
    now = timezone.now()
    return PublishSession.objects.create(
        app=app,
        domain_name="push.tv",
        app_name="live",
        stream_name=f"s{heartbeat_age}",
        started_at=now - timedelta(minutes=1),
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/s",
        recorder_status=RecorderStatus.RUNNING,
        heartbeat_at=now - timedelta(seconds=heartbeat_age),
    )


@pytest.mark.django_db
def test_the_watchdog_reclaims_a_recorder_whose_lock_is_gone_and_never_a_starved_one(
    tmp_path: Path, holders: list
) -> None:
    app = App.objects.create(name="watchdog")
    with override_settings(LIVEREC_SPOOL_DIR=tmp_path, LIVEREC_HEARTBEAT_SECONDS=2, LIVEREC_RECORDER_STALE_SECONDS=8):
        killed = running_session(app, heartbeat_age=4)  # its lock file stays, nobody holds it
        (tmp_path / killed.public_id).mkdir()
        (tmp_path / killed.public_id / LOCK_NAME).touch()
        alive = running_session(app, heartbeat_age=4)  # late heartbeat, but its process holds the lock
        holders.append(hold_lock(tmp_path / alive.public_id))
        beating = running_session(app, heartbeat_age=1)  # no lock visible, but it has not missed a beat
        (tmp_path / beating.public_id).mkdir()
        (tmp_path / beating.public_id / LOCK_NAME).touch()
        elsewhere = running_session(app, heartbeat_age=4)  # its spool is on another host: heartbeats decide
        stale = running_session(app, heartbeat_age=9)  # on another host, stale: reclaimed by its heartbeat
        starved = running_session(app, heartbeat_age=60)  # an overloaded box: no beat for a minute, lock held
        holders.append(hold_lock(tmp_path / starved.public_id))
        reclaimed = recorders_reclaim()
    assert sorted(reclaimed) == sorted([killed.pk, stale.pk])
    statuses = dict(PublishSession.objects.values_list("pk", "recorder_status"))
    assert statuses[killed.pk] == statuses[stale.pk] == RecorderStatus.PENDING
    assert statuses[alive.pk] == statuses[beating.pk] == statuses[elsewhere.pk] == RecorderStatus.RUNNING
    assert statuses[starved.pk] == RecorderStatus.RUNNING, "a starved recorder is not taken for dead"
