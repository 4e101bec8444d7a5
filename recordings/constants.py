"""Fixed values of the recordings app."""

from __future__ import annotations

#: A session's ``recorder_note`` starts with this when nothing records the push (no rule, a "do not record"
#: template): the push is accepted, and the note says why no file will come of it (API and admin).
NOT_RECORDED = "not recorded: "
#: A session's ``recorder_note`` starts with this when its ingest host's worker did not take its recorder in time
#: and a worker elsewhere took it over, pulling the stream over RTMP (``recordings.services.takeover``).
TAKEN_OVER = "taken over: "

#: A push's ``room=`` and ``user=`` (SPEC.md "Rooms and cloud recordings").
ROOM_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
ROOM_ID_MESSAGE = "must be 1–128 letters, digits, _ or -"
