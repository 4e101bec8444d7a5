"""S3Storage against moto's S3 server on loopback, spoken to over real HTTP (boto3 is never patched)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from moto.server import ThreadedMotoServer

from tests.support.ports import free_port, wait_port, wait_port_closed
from workers.storage import MiB, StorageConfig, StorageUnavailable, StorageVerifyError, backend_for
from workers.storage.s3 import S3Storage

from .conftest import S3Server, write_random


def test_small_file_is_uploaded_verified_and_readable_by_key_under_the_prefix(
    s3_config: StorageConfig, s3_server: S3Server, tmp_path: Path
) -> None:
    src = write_random(tmp_path / "a.mp4", 100_000)
    backend = backend_for(s3_config)
    stored = backend.upload(src, "app/stream/a.mp4")

    assert stored.key == "app/stream/a.mp4"
    assert stored.size == 100_000
    assert stored.etag == hashlib.md5(src.read_bytes()).hexdigest()  # single part: ETag is the MD5
    obj = s3_server.client().get_object(Bucket=s3_config.bucket, Key="live/app/stream/a.mp4")  # type: ignore[attr-defined]
    assert obj["Body"].read() == src.read_bytes()
    assert obj["ContentType"] == "video/mp4"


def test_a_file_above_the_threshold_goes_multipart_and_its_etag_is_checked(
    s3_config: StorageConfig, s3_server: S3Server, tmp_path: Path
) -> None:
    src = write_random(tmp_path / "big.flv", 12 * MiB)
    stored = backend_for(s3_config).upload(src, "big.flv")

    data = src.read_bytes()
    parts = [hashlib.md5(data[i : i + 5 * MiB]).digest() for i in range(0, len(data), 5 * MiB)]
    assert len(parts) == 3
    assert stored.size == 12 * MiB
    assert stored.etag == hashlib.md5(b"".join(parts)).hexdigest() + "-3"  # the multipart path was taken
    head = s3_server.client().head_object(Bucket=s3_config.bucket, Key="live/big.flv")  # type: ignore[attr-defined]
    assert head["ContentLength"] == 12 * MiB
    assert head["ETag"].strip('"').endswith("-3")


def test_a_presigned_get_fetched_with_plain_requests_returns_the_same_bytes(
    s3_config: StorageConfig, tmp_path: Path
) -> None:
    src = write_random(tmp_path / "clip.aac", 70_000)
    backend = backend_for(s3_config)
    backend.upload(src, "clip.aac")

    url = backend.url("clip.aac", expires_in=600)
    assert "X-Amz-Expires=600" in url
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200
    assert resp.content == src.read_bytes()


def test_head_exists_and_idempotent_delete(s3_config: StorageConfig, tmp_path: Path) -> None:
    src = write_random(tmp_path / "x.ts", 1000)
    backend = backend_for(s3_config)
    assert backend.head("x.ts") is None
    assert not backend.exists("x.ts")

    backend.upload(src, "x.ts", content_type="video/mp2t")
    head = backend.head("x.ts")
    assert head is not None and head.size == 1000
    assert backend.exists("x.ts")

    backend.delete("x.ts")
    backend.delete("x.ts")  # a second delete is not an error
    assert not backend.exists("x.ts")


def test_virtual_host_addressing_is_used_unless_path_style_is_set(s3_config: StorageConfig, tmp_path: Path) -> None:
    path_style = S3Storage(s3_config)
    virtual = S3Storage(StorageConfig(**{**s3_config.__dict__, "path_style": False}))
    host = f"127.0.0.1:{s3_config.endpoint_url.rsplit(':', 1)[1]}"
    assert path_style.url("k", expires_in=60).startswith(f"http://{host}/{s3_config.bucket}/live/k?")
    # an IP endpoint stays path-style: a bucket cannot be a sub-domain of an IP address
    assert virtual.url("k", expires_in=60).startswith(f"http://{host}/{s3_config.bucket}/live/k?")
    vhost = S3Storage(
        StorageConfig(**{**s3_config.__dict__, "path_style": False, "endpoint_url": "http://s3.example.test:9000"})
    )
    assert vhost.url("k", expires_in=60).startswith(f"http://{s3_config.bucket}.s3.example.test:9000/live/k?")
    pstyle = S3Storage(
        StorageConfig(**{**s3_config.__dict__, "path_style": True, "endpoint_url": "http://s3.example.test:9000"})
    )
    assert pstyle.url("k", expires_in=60).startswith(f"http://s3.example.test:9000/{s3_config.bucket}/live/k?")

    src = write_random(tmp_path / "p.mp4", 2000)
    assert path_style.upload(src, "p.mp4").size == 2000  # a real round trip over path-style requests


def test_a_different_local_file_fails_verification(s3_config: StorageConfig, tmp_path: Path) -> None:
    backend = backend_for(s3_config)
    src = write_random(tmp_path / "a.mp4", 4096)
    backend.upload(src, "a.mp4")

    same_size = write_random(tmp_path / "b.mp4", 4096)
    with pytest.raises(StorageVerifyError, match="ETag"):
        backend.verify(same_size, "a.mp4")
    other_size = write_random(tmp_path / "c.mp4", 4097)
    with pytest.raises(StorageVerifyError, match="size"):
        backend.verify(other_size, "a.mp4")
    with pytest.raises(StorageVerifyError, match="not in bucket"):
        backend.verify(src, "missing.mp4")


def test_a_different_file_of_the_same_size_fails_multipart_verification(
    s3_config: StorageConfig, tmp_path: Path
) -> None:
    backend = backend_for(s3_config)
    src = write_random(tmp_path / "big.mp4", 11 * MiB)
    backend.upload(src, "big.mp4")
    data = bytearray(src.read_bytes())
    data[7 * MiB] ^= 0xFF  # one flipped byte in the second part
    (tmp_path / "flipped.mp4").write_bytes(bytes(data))
    with pytest.raises(StorageVerifyError, match="ETag"):
        backend.verify(tmp_path / "flipped.mp4", "big.mp4")


def test_keys_that_climb_out_are_refused(s3_config: StorageConfig, tmp_path: Path) -> None:
    backend = backend_for(s3_config)
    for key in ("../x", "/abs", "a/../../x", "a//b", "a\nb", ""):
        with pytest.raises(ValueError):
            backend.upload(tmp_path / "nothing", key)


def attempts_of(backend: S3Storage) -> list[str]:
    """Every HTTP attempt the backend's client makes (botocore's own event hook), by operation name."""
    sent: list[str] = []

    def count(event_name: str, **_: object) -> None:
        sent.append(event_name.rsplit(".", 1)[-1])

    backend.client.meta.events.register("before-send.s3", count)
    return sent


def test_a_dead_server_fails_fast_with_storage_unavailable(tmp_path: Path) -> None:
    dead = StorageConfig(
        provider="s3",
        bucket="gone",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        path_style=True,
        access_key_id="a",
        secret_access_key="b",
        connect_timeout=1,
        read_timeout=2,
    )
    src = write_random(tmp_path / "a.mp4", 1000)
    backend = backend_for(dead)
    assert isinstance(backend, S3Storage)
    sent = attempts_of(backend)
    with pytest.raises(StorageUnavailable):
        backend.upload(src, "a.mp4")
    with pytest.raises(StorageUnavailable):
        backend.head("a.mp4")
    with pytest.raises(StorageUnavailable):
        backend.delete("a.mp4")
    # Fast: each call gives up after its bounded attempts (max_attempts, 2) instead of botocore's default retries.
    assert sent == ["PutObject", "PutObject", "HeadObject", "HeadObject", "DeleteObject", "DeleteObject"]


def test_a_stopped_server_makes_upload_raise_storage_unavailable(tmp_path: Path) -> None:
    # its own server: stopping the module's would break the other tests
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_port(port)
    try:
        config = StorageConfig(
            provider="s3",
            bucket="stopme",
            endpoint_url=f"http://127.0.0.1:{port}",
            path_style=True,
            access_key_id="a",
            secret_access_key="b",
            multipart_threshold=5 * MiB,
            multipart_chunksize=5 * MiB,
            connect_timeout=1,
            read_timeout=3,
        )
        backend = S3Storage(config)
        backend.client.create_bucket(Bucket="stopme")
        src = write_random(tmp_path / "a.mp4", 6 * MiB)
        assert backend.upload(src, "before.mp4").size == 6 * MiB
    finally:
        server.stop()
        wait_port_closed(port)

    sent = attempts_of(backend)
    with pytest.raises(StorageUnavailable):
        backend.upload(src, "after.mp4")  # multipart: the transfer manager's threads fail too
    assert sent == ["CreateMultipartUpload", "CreateMultipartUpload"], "no part is tried once the upload failed"
    sent.clear()
    with pytest.raises(StorageUnavailable):
        backend.upload(write_random(tmp_path / "b.mp4", 1000), "small.mp4")
    assert sent == ["PutObject", "PutObject"]
