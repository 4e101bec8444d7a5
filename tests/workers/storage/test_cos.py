"""CosStorage (cos-python-sdk-v5) against a loopback COS endpoint: a signature-checking gateway over moto.

See cos_gateway.py for what this proves (COS-signed requests with the configured key; S3-shaped semantics
of every call round-tripping through moto) and what it cannot (behaviour specific to Tencent's service).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.ports import free_port
from workers.storage import MiB, StorageConfig, StorageUnavailable, StorageVerifyError, backend_for
from workers.storage.cos import CosStorage, crc64ecma

from .conftest import S3Server, write_random
from .cos_gateway import CosGateway

SECRET_ID = "AKIDcosTEST"
SECRET_KEY = "cos-secret-key"


@pytest.fixture
def gateway(s3_server: S3Server, bucket: str) -> Iterator[CosGateway]:
    gw = CosGateway(bucket=bucket, upstream_port=s3_server.port, secret_id=SECRET_ID, secret_key=SECRET_KEY)
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def cos_config(gateway: CosGateway, bucket: str) -> StorageConfig:
    return StorageConfig(
        provider="cos",
        bucket=bucket,
        region="ap-guangzhou",
        endpoint_url=gateway.endpoint_url,
        access_key_id=SECRET_ID,
        secret_access_key=SECRET_KEY,
        prefix="rec",
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        connect_timeout=2,
        read_timeout=10,
    )


def test_a_simple_upload_is_signed_sent_with_content_md5_and_verified(
    cos_config: StorageConfig, gateway: CosGateway, s3_server: S3Server, tmp_path: Path
) -> None:
    src = write_random(tmp_path / "a.mp4", 200_000)
    stored = backend_for(cos_config).upload(src, "app/s/a.mp4")

    assert stored.size == 200_000
    assert stored.etag == hashlib.md5(src.read_bytes()).hexdigest()
    puts = gateway.matching("PUT")
    assert [r.path for r in puts] == ["/rec/app/s/a.mp4"]
    assert puts[0].headers["content-md5"]
    assert all(r.signed for r in gateway.requests), [(r.method, r.path, r.reason) for r in gateway.requests]
    body = s3_server.client().get_object(Bucket=cos_config.bucket, Key="rec/app/s/a.mp4")["Body"].read()  # type: ignore[attr-defined]
    assert body == src.read_bytes()


def test_a_file_above_the_threshold_uses_the_multipart_calls(
    cos_config: StorageConfig, gateway: CosGateway, tmp_path: Path
) -> None:
    src = write_random(tmp_path / "big.flv", 12 * MiB)
    stored = backend_for(cos_config).upload(src, "big.flv")

    assert stored.size == 12 * MiB
    assert stored.etag is not None and stored.etag.endswith("-3")
    assert len(gateway.matching("POST", "uploads")) == 1  # initiate
    assert sorted(r.params["partNumber"] for r in gateway.matching("PUT", "partNumber", "uploadId")) == ["1", "2", "3"]
    assert len(gateway.matching("POST", "uploadId")) == 1  # complete
    assert all(r.signed for r in gateway.requests)


def test_a_presigned_download_url_works_with_plain_requests(cos_config: StorageConfig, tmp_path: Path) -> None:
    src = write_random(tmp_path / "c.aac", 3000)
    backend = backend_for(cos_config)
    backend.upload(src, "c.aac")
    url = backend.url("c.aac", expires_in=300)
    assert "q-signature=" in url
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200
    assert resp.content == src.read_bytes()
    tampered = url.replace("c.aac", "d.aac")
    assert requests.get(tampered, timeout=10).status_code == 403  # the gateway checks the presigned signature


def test_head_exists_delete_and_verify(cos_config: StorageConfig, tmp_path: Path) -> None:
    backend = backend_for(cos_config)
    src = write_random(tmp_path / "x.ts", 5000)
    assert backend.head("x.ts") is None
    backend.upload(src, "x.ts")
    assert backend.exists("x.ts")
    with pytest.raises(StorageVerifyError):
        backend.verify(write_random(tmp_path / "y.ts", 5000), "x.ts")
    backend.delete("x.ts")
    backend.delete("x.ts")
    assert not backend.exists("x.ts")


def test_a_wrong_secret_key_is_refused_by_the_endpoint(cos_config: StorageConfig, tmp_path: Path) -> None:
    bad = StorageConfig(**{**cos_config.__dict__, "secret_access_key": "not-the-key"})
    with pytest.raises(Exception) as info:
        backend_for(bad).upload(write_random(tmp_path / "a.mp4", 10), "a.mp4")
    assert "403" in str(info.value)
    assert not isinstance(info.value, StorageUnavailable)


def test_a_dead_endpoint_fails_fast_with_storage_unavailable(cos_config: StorageConfig, tmp_path: Path) -> None:
    dead = StorageConfig(**{**cos_config.__dict__, "endpoint_url": f"http://127.0.0.1:{free_port()}"})
    backend = backend_for(dead)
    assert isinstance(backend, CosStorage)
    with pytest.raises(StorageUnavailable):
        backend.upload(write_random(tmp_path / "a.mp4", 1000), "a.mp4")
    assert backend.client.get_retry_exe_times() == 1, "one retry (max_attempts 2), not the SDK's default"
    with pytest.raises(StorageUnavailable):
        backend.head("a.mp4")
    assert backend.client.get_retry_exe_times() == 2, "the SDK's own count of the retries it made"


def test_endpoint_urls_pick_the_sdk_addressing() -> None:
    base = {"provider": "cos", "bucket": "examplebucket-1250000000", "region": "ap-guangzhou"}
    default = CosStorage(StorageConfig(**base, access_key_id="a", secret_access_key="b"))
    assert default.url("k", expires_in=60).startswith(
        "https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com/k?"
    )
    regional = CosStorage(
        StorageConfig(
            **base, endpoint_url="https://cos.accelerate.myqcloud.com", access_key_id="a", secret_access_key="b"
        )
    )
    assert regional.url("k", expires_in=60).startswith(
        "https://examplebucket-1250000000.cos.accelerate.myqcloud.com/k?"
    )
    custom = CosStorage(
        StorageConfig(**base, endpoint_url="http://media.example.com:8080", access_key_id="a", secret_access_key="b")
    )
    assert custom.url("k", expires_in=60).startswith("http://media.example.com:8080/k?")


def test_crc64ecma_is_crc64_xz() -> None:
    assert crc64ecma(b"123456789", 0) == 0x995DC9BBDF1939FA  # the CRC-64/XZ check value
    assert crc64ecma(b"6789", crc64ecma(b"12345", 0)) == 0x995DC9BBDF1939FA  # streaming
