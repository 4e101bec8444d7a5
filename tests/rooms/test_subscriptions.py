"""Subscription resolution against a small oracle: which media of which stream a recording records."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rooms.choices import StreamType
from rooms.subscriptions import LIST_NAMES, Subscription, lists_updated, media_recorded, task_media

NAMES = st.sampled_from(["a", "b", "c", "d"])
LISTS = st.one_of(st.none(), st.lists(NAMES, max_size=4))
TYPES = st.sampled_from(list(StreamType.values))


def oracle(name: str, stream_type: str, lists: dict[str, list[str] | None]) -> tuple[bool, bool]:
    """Spelled out case by case: a non-empty subscribe list picks, else a non-empty unsubscribe list excludes."""
    wanted = {}
    for medium in ("audio", "video"):
        only, but = lists[f"subscribe_{medium}"], lists[f"unsubscribe_{medium}"]
        if only:
            wanted[medium] = name in only
        elif but:
            wanted[medium] = name not in but
        else:
            wanted[medium] = True
    allowed = {
        "audio_video": (True, True),
        "audio": (True, False),
        "video": (False, True),
        "audio_video_separate": (True, True),
    }[stream_type]
    return wanted["audio"] and allowed[0], wanted["video"] and allowed[1]


@given(NAMES, TYPES, LISTS, LISTS, LISTS, LISTS)
def test_media_recorded_matches_the_oracle(
    name: str,
    stream_type: str,
    sub_a: list[str] | None,
    sub_v: list[str] | None,
    unsub_a: list[str] | None,
    unsub_v: list[str] | None,
) -> None:
    lists = {
        "subscribe_audio": sub_a,
        "subscribe_video": sub_v,
        "unsubscribe_audio": unsub_a,
        "unsubscribe_video": unsub_v,
    }
    got = media_recorded(stream_name=name, stream_type=stream_type, subscription=Subscription.of(lists))
    assert got == oracle(name, stream_type, lists)


@given(st.booleans(), st.booleans(), TYPES, st.sets(st.sampled_from(["mp4", "flv", "hls", "aac", "mp3"])))
def test_task_media_never_records_an_unsubscribed_medium(
    audio: bool, video: bool, stream_type: str, fmts: set[str]
) -> None:
    formats = {fmt: {"record_interval": 600, "storage_time": 0} for fmt in fmts}
    media = task_media(audio=audio, video=video, stream_type=stream_type, formats=formats)
    if not (audio or video):
        assert media is None
        return
    assert media is not None
    if not audio:
        assert media.record_type == "noaudio" and not {"aac", "mp3"} & set(media.formats)
    if not video:
        assert media.record_type == "audio"
    if audio and video:
        separate = stream_type == StreamType.AUDIO_VIDEO_SEPARATE
        assert media.record_type == ("noaudio" if separate else "video")
        if separate and fmts:
            assert "aac" in media.formats
    assert set(media.formats) <= fmts | {"aac"}


def test_updates_apply_to_the_lists_as_given() -> None:
    """An update is just new lists: resolution of a stream reads the lists of the moment."""
    before = Subscription(subscribe_video=["a"])
    after = Subscription(unsubscribe_video=["a"])
    assert media_recorded(stream_name="b", stream_type="audio_video", subscription=before) == (True, False)
    assert media_recorded(stream_name="b", stream_type="audio_video", subscription=after) == (True, True)
    assert media_recorded(stream_name="a", stream_type="audio_video", subscription=after) == (True, False)


UPDATE = st.dictionaries(st.sampled_from(LIST_NAMES), LISTS, max_size=4)


@given(st.lists(UPDATE, max_size=5), NAMES, TYPES)
def test_a_series_of_updates_resolves_like_the_last_lists_given_per_medium(
    updates: list[dict[str, list[str] | None]], name: str, stream_type: str
) -> None:
    """Oracle of updates: per medium, the lists are those of the last update that named that medium."""
    lists: dict[str, list[str] | None] = dict.fromkeys(LIST_NAMES)
    expected: dict[str, list[str] | None] = dict.fromkeys(LIST_NAMES)
    for update in updates:
        lists = lists_updated(lists, update)
        for medium in ("audio", "video"):
            if f"subscribe_{medium}" in update or f"unsubscribe_{medium}" in update:
                expected[f"subscribe_{medium}"] = update.get(f"subscribe_{medium}") or None
                expected[f"unsubscribe_{medium}"] = update.get(f"unsubscribe_{medium}") or None
    got = media_recorded(stream_name=name, stream_type=stream_type, subscription=Subscription.of(lists))
    assert got == oracle(name, stream_type, expected)
