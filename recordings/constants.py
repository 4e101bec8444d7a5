"""Fixed values of the recordings app."""

from __future__ import annotations

#: A session's ``recorder_note`` starts with this when nothing records the push (no rule, a "do not record"
#: template): the push is accepted, and the note says why no file will come of it (API and admin).
NOT_RECORDED = "not recorded: "
