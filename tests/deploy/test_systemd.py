"""The systemd units in ``deploy/systemd/`` pass ``systemd-analyze verify`` and say what production needs.

The units name ``/opt/liverecord`` (the checkout) and ``/etc/liverecord.env``; the test points them at this
checkout and a copy of ``deploy/production.env.example`` (verify checks that every command is executable).
"""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
UNITS = BASE_DIR / "deploy" / "systemd"
SERVICES = ("web", "worker", "beat", "ingest")


def installed(tmp_path: Path) -> list[Path]:
    env = tmp_path / "liverecord.env"
    shutil.copy(BASE_DIR / "deploy" / "production.env.example", env)
    out = []
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text().replace("/opt/liverecord", str(BASE_DIR)).replace("/etc/liverecord.env", str(env))
        (tmp_path / unit.name).write_text(text)
        out.append(tmp_path / unit.name)
    return out


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def parse(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    units = installed(tmp_path)
    done = verify(units)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    # The check can fail: a unit with a bad value and a missing command does not pass.
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart=/nonexistent/liverecord\nRestart=sometimes\n")
    refused = verify([broken])
    assert refused.returncode != 0 and "sometimes" in refused.stderr


def test_every_service_restarts_always_and_reads_the_env_file() -> None:
    for name in SERVICES:
        unit = parse(f"liverecord-{name}.service")
        assert unit["Service"]["Restart"] == "always", name
        assert unit["Service"]["EnvironmentFile"] == "/etc/liverecord.env", name
        assert unit["Unit"]["PartOf"] == "liverecord.target", name
        assert "liverecord-prepare.service" in unit["Unit"]["After"], name


def test_start_order_and_the_queues_the_worker_consumes() -> None:
    target = parse("liverecord.target")["Unit"]["Wants"].split()
    # beat is enabled on one host only: the target does not pull it in.
    assert "liverecord-beat.service" not in target
    assert {f"liverecord-{n}.service" for n in ("prepare", "web", "worker", "ingest")} <= set(target)
    assert "liverecord-web.service" in parse("liverecord-worker.service")["Unit"]["After"]
    assert "liverecord-worker.service" in parse("liverecord-ingest.service")["Unit"]["After"]
    worker = parse("liverecord-worker.service")["Service"]["ExecStart"]
    assert " -Q record,io,default " in worker and " -P threads " in worker
    prepare = parse("liverecord-prepare.service")["Service"]
    assert prepare["Type"] == "oneshot" and "reset_metrics" in prepare["ExecStartPre"]
    env = (BASE_DIR / "deploy" / "production.env.example").read_text()
    for variable in ("LIVEREC_WEB_BIND", "LIVEREC_WORKER_THREADS", "LIVEREC_INGEST_HOST", "LIVEREC_LOG_FORMAT"):
        assert f"\n{variable}=" in env, variable
