"""Signals the session services send inside their transaction, so that apps above (``rooms``) follow pushes
without ``recordings`` importing them: a push of a room opened, or ended."""

from __future__ import annotations

from django.dispatch import Signal

#: ``session`` (a ``PublishSession``) opened; sent inside ``session_open``'s transaction, after its tasks.
session_opened = Signal()

#: ``session`` ended (publish done, end of stream, replaced); sent inside the closing transaction.
session_closed = Signal()
