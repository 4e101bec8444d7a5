"""LocalStorage: atomic, verified copies under a root; keys that climb out are refused."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from workers.storage import LocalStorage, StorageConfig, StorageVerifyError, backend_for

from .conftest import write_random


def test_upload_puts_a_verified_copy_under_root_prefix_key(tmp_path: Path) -> None:
    src = write_random(tmp_path / "spool" / "a.mp4", 300_000)
    backend = backend_for(StorageConfig(provider="local", local_root=tmp_path / "media", prefix="files"))
    stored = backend.upload(src, "app/s/a.mp4")

    target = tmp_path / "media" / "files" / "app" / "s" / "a.mp4"
    assert target.read_bytes() == src.read_bytes()
    assert stored.size == 300_000
    assert stored.checksum == "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".part")]  # no temporary file left
    src.unlink()  # the spool deletes its copy: the stored one stays
    assert target.is_file()
    assert backend.head("app/s/a.mp4") is not None


def test_a_copy_across_filesystems_is_copied_and_fsynced(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second filesystem (/dev/shm)")
    src = write_random(shm / f"lr-test-{os.getpid()}.mp4", 10_000)
    try:
        stored = LocalStorage(tmp_path / "media").upload(src, "a.mp4")
        assert stored.size == 10_000
        assert os.stat(tmp_path / "media" / "a.mp4").st_ino != os.stat(src).st_ino
    finally:
        src.unlink()


def test_same_filesystem_uploads_are_hardlinks(tmp_path: Path) -> None:
    src = write_random(tmp_path / "a.mp4", 10_000)
    LocalStorage(tmp_path / "media").upload(src, "a.mp4")
    assert os.stat(tmp_path / "media" / "a.mp4").st_ino == os.stat(src).st_ino


def test_an_existing_object_is_replaced_atomically(tmp_path: Path) -> None:
    backend = LocalStorage(tmp_path / "media")
    backend.upload(write_random(tmp_path / "v1", 1000), "p.m3u8")
    v2 = write_random(tmp_path / "v2", 2000)
    backend.upload(v2, "p.m3u8")  # a growing playlist is re-uploaded under the same key
    assert (tmp_path / "media" / "p.m3u8").read_bytes() == v2.read_bytes()


def test_a_different_local_file_fails_verification(tmp_path: Path) -> None:
    backend = LocalStorage(tmp_path / "media")
    backend.upload(write_random(tmp_path / "a", 1000), "a")
    with pytest.raises(StorageVerifyError, match="sha256"):
        backend.verify(write_random(tmp_path / "b", 1000), "a")
    with pytest.raises(StorageVerifyError, match="size"):
        backend.verify(write_random(tmp_path / "c", 999), "a")
    with pytest.raises(StorageVerifyError, match="not stored"):
        backend.verify(tmp_path / "a", "missing")


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a/./b", "a//b", "a\x00b", "a\nb", "", ".."])
def test_keys_that_climb_out_or_are_malformed_are_refused(tmp_path: Path, key: str) -> None:
    backend = LocalStorage(tmp_path / "media")
    src = write_random(tmp_path / "a", 10)
    with pytest.raises(ValueError):
        backend.upload(src, key)
    with pytest.raises(ValueError):
        backend.delete(key)
    assert not (tmp_path / "x").exists()


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    (tmp_path / "media").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "media" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError):
        LocalStorage(tmp_path / "media").upload(write_random(tmp_path / "a", 10), "link/a")


def test_delete_is_idempotent_and_url_is_left_to_django(tmp_path: Path) -> None:
    backend = LocalStorage(tmp_path / "media")
    backend.upload(write_random(tmp_path / "a", 10), "a")
    backend.delete("a")
    backend.delete("a")
    assert not backend.exists("a")
    with pytest.raises(NotImplementedError):
        backend.url("a", expires_in=60)
