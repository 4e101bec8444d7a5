"""Fixtures for the deploy tests: a hook receiver and an nginx-rtmp ingest on free loopback ports."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.nginx_rtmp import NGINX_BIN, RTMP_MODULE, NginxRtmp
from tests.support.hook_receiver import HookReceiver
from tests.support.media import make_clip
from tests.support.ports import free_port

HAVE_NGINX_RTMP = NGINX_BIN.exists() and RTMP_MODULE.exists()
HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: pushes real RTMP through nginx-rtmp with ffmpeg (needs nginx, ffmpeg)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAVE_NGINX_RTMP and HAVE_FFMPEG:
        return
    skip = pytest.mark.skip(reason="nginx + libnginx-mod-rtmp and ffmpeg are needed for e2e tests")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


HOOK_PATH = "/hooks/nginx-rtmp/?token=test-token"


@pytest.fixture
def hooks() -> Iterator[HookReceiver]:
    with HookReceiver(status=200) as receiver:
        yield receiver


@pytest.fixture
def ingest(tmp_path: Path, hooks: HookReceiver) -> Iterator[NginxRtmp]:
    with NginxRtmp(tmp_path / "nginx", free_port(), hooks.url(HOOK_PATH)) as nginx:
        yield nginx


@pytest.fixture(scope="session")
def clip6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 s, H.264 320x240 25 fps, 1 s GOP + AAC stereo, in FLV."""
    return make_clip(tmp_path_factory.mktemp("clips") / "clip6.flv", seconds=6)


@pytest.fixture(scope="session")
def clip3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip3.flv", seconds=3)
