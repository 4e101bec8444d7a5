"""What sessions and record tasks know of rooms (SPEC.md "Rooms and cloud recordings"), as plain fields: the
``rooms`` app above reads and writes them, and ``recordings`` never imports it."""

from __future__ import annotations

from django.db import models

from rules.models import StorageTarget


class RoomPushFields(models.Model):
    """The push query's ``room=`` and ``user=`` (user defaults to the stream name); blank for a push in no room."""

    room_id = models.CharField(verbose_name="room", max_length=128, blank=True)
    user_id = models.CharField(verbose_name="user", max_length=128, blank=True)

    class Meta:
        abstract = True


class RoomTaskFields(models.Model):
    """A cloud recording's task (kind ``cloud``): its public id, room and user, and its own callback URL and
    storage target (the domain's when blank)."""

    cloud_recording_id = models.CharField(verbose_name="cloud recording", max_length=16, blank=True, db_index=True)
    room_id = models.CharField(verbose_name="room", max_length=128, blank=True)
    user_id = models.CharField(verbose_name="user", max_length=128, blank=True)
    callback_url = models.CharField(verbose_name="callback URL (instead of the domain's)", max_length=1024, blank=True)
    mute_audio = models.JSONField(
        verbose_name="mute split",
        null=True,
        blank=True,
        help_text='MP3 only: {"skip": true, "split_after": 10} drops muted audio and splits after long silences.',
    )
    storage = models.ForeignKey(
        StorageTarget,
        verbose_name="storage target (instead of the domain's)",
        related_name="record_tasks",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )

    class Meta:
        abstract = True
