"""Admission control: how many streams this worker process records at once (``LIVEREC_STREAMS_PER_WORKER``)."""

from __future__ import annotations

import threading

from django.conf import settings

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def recorder_slots() -> threading.BoundedSemaphore:
    """The process's recorder slots, made on first use (settings are read once the worker has started)."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.LIVEREC_STREAMS_PER_WORKER)
        return _slots
