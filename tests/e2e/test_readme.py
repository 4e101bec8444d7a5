"""The README's "First steps" block, copied out of README.md and run with bash as a new user would paste it, against
the service as ``make run`` starts it (web, worker, beat, nginx-rtmp; the embedded default: SQLite and the
filesystem broker). It must run to the end and leave an MP4 and an HLS playlist of the push, which ffprobe reads."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.media import duration
from tests.support.stack import BASE_DIR, Stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def first_steps_block() -> str:
    readme = (BASE_DIR / "README.md").read_text()
    section = readme.split("\n## First steps\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found, "README.md's First steps has no sh block"
    return found.group(1)


def test_the_block_names_no_id_it_did_not_get_from_an_answer() -> None:
    block = first_steps_block()
    assert '"template": 1' not in block and "clip.mp4" not in block
    assert "lavfi" in block and "127.0.0.1" in block


def test_the_first_steps_work_as_written_on_a_fresh_service(tmp_path: Path) -> None:
    with Stack(tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", broker_url="filesystem://") as stack:
        stack.manage("migrate", "--no-input", "-v0")
        stack.start()
        nginx = stack.start_ingest()
        env = {**stack.env, "LIVEREC_RTMP_PORT": str(nginx.rtmp_port)}
        script = first_steps_block() + '\necho "readme-key: $KEY"\n'
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        out = done.stdout
        assert done.returncode == 0, f"{out}\n{done.stderr}\n{stack.logs_text()}"
        assert '"name":"127.0.0.1"' in out.replace(" ", ""), out
        assert '"level":5' in out.replace(" ", ""), out  # the rule wins: any stream, this domain and app
        stack.api_key = out.rsplit("readme-key: ", 1)[1].strip()

        def stored() -> dict[str, Any] | None:
            rows = stack.all("files/", stream_name="demo")
            by_format = {row["format"]: row for row in rows if row["status"] == "stored"}
            return by_format if {"mp4", "hls"} <= set(by_format) else None

        files = wait_for(stored, 90, "the README push's MP4 and HLS playlist", stack)
        for fmt in ("mp4", "hls"):
            seconds = duration(files[fmt]["url"])
            assert 17 <= seconds <= 22, (fmt, seconds)
