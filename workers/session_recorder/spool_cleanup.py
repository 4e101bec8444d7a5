"""A session's spool once its recordings are done."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from workers.spool_lock import LOCK_NAME


def clean_spool(spool_dir: Path) -> None:
    """Drop the session's spool once its recordings are done (their files were moved out of it)."""
    shutil.rmtree(spool_dir / "chunks", ignore_errors=True)
    (spool_dir / LOCK_NAME).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        spool_dir.rmdir()
