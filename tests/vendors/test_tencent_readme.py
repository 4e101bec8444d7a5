"""README.md's "Coming from Tencent Cloud CSS" Python block, run as written against the running service."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
from django.conf import settings

from liverecord.models import App
from recordings.models import RecordTask
from rules.models import RecordRule
from vendors.choices import Vendor
from vendors.services import vendor_key_create


def tencent_block() -> str:
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("\n## Coming from Tencent Cloud CSS", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the Tencent section has no python block"
    return found.group(1)


@pytest.mark.django_db(transaction=True)
def test_the_tencent_snippet_works_as_written(live_server: Any) -> None:
    made = vendor_key_create(app=App.objects.create(name="acme"), vendor=Vendor.TENCENT)
    env = {
        **os.environ,
        "TENCENTCLOUD_SECRET_ID": made.key.key_id,
        "TENCENTCLOUD_SECRET_KEY": made.secret,
        "LIVEREC_ENDPOINT": live_server.url.split("://", 1)[1],
    }
    done = subprocess.run(
        [sys.executable, "-c", tencent_block()], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    template_id, task_id = re.fullmatch(r"template (\d+) task ([\w-]+)\n", done.stdout).groups()  # type: ignore[union-attr]
    assert RecordRule.objects.get(app=made.key.app).template_id == int(template_id)
    assert RecordTask.objects.get(public_id=task_id).stream_name == "class42"
