"""README.md's "Coming from ZEGO" Python block, run as written against the running service."""

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


def zego_block() -> str:
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("\n## Coming from ZEGO", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the ZEGO section has no python block"
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_the_zego_snippet_works_as_written(live_server: Any) -> None:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="push.example.com")
    made = vendor_key_create(app=app, vendor=Vendor.ZEGO)
    env = {
        **os.environ,
        "ZEGO_APP_ID": made.key.key_id,
        "ZEGO_SERVER_SECRET": made.secret,
        "LIVEREC_URL": live_server.url,
    }
    done = subprocess.run(
        [sys.executable, "-c", zego_block()], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    task_id, status = re.fullmatch(r"task (\S{16}) status (\d)\n", done.stdout).groups()  # type: ignore[union-attr]
    assert status == "1", "nobody publishes in the room yet"
    recording = CloudRecording.objects.get(public_id=task_id)
    assert (recording.room_id, recording.max_idle_time) == ("class42", 60)
    assert recording.storage is not None and recording.storage.bucket == "my-recordings"
