"""Writes the recording depends on wait out a database restart (the spool keeps going meanwhile)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

log = logging.getLogger(__name__)


def until_database_answers(action: Callable[[], object], what: str) -> None:
    """Run a write the recording depends on, waiting out a database restart (the spool keeps going meanwhile).

    Runs on the packaging thread, never in the demux loop: a database outage delays rows, not spooling.
    """
    delay = 0.5
    deadline = time.monotonic() + settings.LIVEREC_DB_OUTAGE_SECONDS
    while True:
        try:
            action()
            return
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("database unavailable while %s (%s); retrying in %.1f s", what, exc, delay)
            close_old_connections()
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        finally:
            close_old_connections()
