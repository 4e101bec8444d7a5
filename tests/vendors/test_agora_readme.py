"""README.md's "Coming from Agora cloud recording" Python block, run as written against the running service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings

from liverecord.models import App
from rooms.models import CloudRecording
from rules.models import Domain
from vendors.choices import Vendor
from vendors.services import vendor_key_create


def agora_block() -> str:
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("\n## Coming from Agora cloud recording", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the Agora section has no python block"
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_the_agora_snippet_works_as_written(live_server: Any) -> None:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="push.example.com")
    made = vendor_key_create(app=app, vendor=Vendor.AGORA)
    env = {
        **os.environ,
        "AGORA_APP_ID": made.key.vendor_app_id,
        "AGORA_CUSTOMER_KEY": made.key.key_id,
        "AGORA_CUSTOMER_SECRET": made.secret,
        "LIVEREC_URL": live_server.url,
    }
    done = subprocess.run(
        [sys.executable, "-c", agora_block()], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "status 4\nfiles []\n", "no stream pushed: waiting (4), then stopped with no file"
    recording = CloudRecording.objects.get(app=app)
    assert (recording.room_id, recording.status, set(recording.formats)) == ("class7", "finished", {"hls", "mp4"})
    assert (recording.stream_type, recording.subscribe_video, recording.max_idle_time) == ("audio_video", None, 60)
    assert recording.subscribe_audio == ["1001"]
