"""MP3 mute handling (ZEGO RecordMuteAudio): muted stretches of 1 s or more dropped, a long one starts a new file.

The clip: a tone 0-2 s, silence 2-5 s (3 s), tone 5-7 s, silence 7-7.5 s (kept: under 1 s), tone 7.5-9 s,
silence 9-10.5 s (dropped, too short to split), tone 10.5-12 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.media import make_clip
from tests.workers.engine.conftest import media_duration

SILENT = "volume=enable='between(t,2,5)+between(t,7,7.5)+between(t,9,10.5)':volume=0"


@pytest.fixture(scope="module")
def tone_with_silences(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mute") / "tone.flv"
    return make_clip(path, seconds=12, vcodec=None, extra_args=["-af", SILENT])


def test_a_long_silence_splits_and_muted_stretches_are_dropped(record, tone_with_silences):
    run = record(
        tone_with_silences,
        {"m": {"mp3": 3600}},
        specs={"m": {"record_type": "audio", "mute_skip": True, "mute_split_after": 2.5}},
    )
    files = run.events.of("mp3")
    assert len(files) == 2 and not [f for f in files if f.error]
    first, second = files
    assert abs(first.duration - 2.0) < 0.25
    assert abs(second.duration - 5.5) < 0.35, "0.5 s of silence kept, 1.5 s dropped"
    assert abs(media_duration(second.path) - second.duration) < 0.1
    assert second.start_wallclock - first.start_wallclock == pytest.approx(5.0, abs=0.25)


def test_without_skip_the_silence_stays_and_only_the_split_happens(record, tone_with_silences):
    run = record(
        tone_with_silences, {"m": {"mp3": 3600}}, specs={"m": {"record_type": "audio", "mute_split_after": 2.5}}
    )
    durations = [round(f.duration, 1) for f in run.events.of("mp3")]
    assert len(durations) == 2 and abs(durations[0] - 2.0) < 0.25 and abs(durations[1] - 7.0) < 0.35


def test_no_mute_settings_no_change(record, tone_with_silences):
    run = record(tone_with_silences, {"m": {"mp3": 3600}}, specs={"m": {"record_type": "audio"}})
    [whole] = run.events.of("mp3")
    assert abs(whole.duration - 12.0) < 0.3
