"""A real S3 server on loopback (moto's server mode) for the storage backends' tests. No Django here."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server, start_s3_server
from workers.storage import MiB, StorageConfig


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    running = start_s3_server()
    yield running
    running.server.stop()


@pytest.fixture
def bucket(s3_server: S3Server, request: pytest.FixtureRequest) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    name = f"lr-{slug}-{os.getpid()}"
    s3_server.client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


@pytest.fixture
def s3_config(s3_server: S3Server, bucket: str) -> StorageConfig:
    return StorageConfig(
        provider="s3",
        bucket=bucket,
        region="us-east-1",
        endpoint_url=s3_server.endpoint_url,
        path_style=True,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        prefix="live",
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        connect_timeout=2,
        read_timeout=10,
    )


def write_random(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, MiB)
            f.write(os.urandom(n))
            left -= n
    return path
