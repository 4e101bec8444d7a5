"""The recordings app's session signals → cloud recordings (``recordings`` never imports ``rooms``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from recordings.models import PublishSession, RecordTask
from recordings.signals import session_closed, session_opened
from rooms.services import session_joined, session_left


@receiver(session_opened, dispatch_uid="rooms.session_opened")
def on_session_opened(sender: Any, session: PublishSession, **kwargs: Any) -> list[RecordTask]:
    return session_joined(session=session)


@receiver(session_closed, dispatch_uid="rooms.session_closed")
def on_session_closed(sender: Any, session: PublishSession, **kwargs: Any) -> None:
    session_left(session=session)
