"""The admin file browser: filters, search, the read-only file page and its player for each format."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import reverse

from liverecord.models import App
from recordings.admin_files import HLS_JS, MPEGTS_JS, PLAYER_JS
from recordings.models import RecordFile

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
LIST = reverse("admin:recordings_recordfile_changelist")
VENDOR = Path(__file__).resolve().parents[2] / "recordings" / "static" / "recordings" / "vendor"


@pytest.fixture
def media(tmp_path: Path) -> Iterator[Path]:
    with override_settings(LIVEREC_MEDIA_DIR=tmp_path):
        yield tmp_path


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def app(db: None) -> App:
    return App.objects.create(name="acme")


def make_file(
    app: App,
    media: Path,
    *,
    fmt: str,
    stream: str = "cam1",
    domain: str = "push.tv",
    app_name: str = "live",
    minutes: int = 0,
    status: str = "stored",
) -> RecordFile:
    start = T0 + timedelta(minutes=minutes)
    name = f"{stream}_{fmt}_{minutes}"
    ext = "m3u8" if fmt == "hls" else fmt
    path = media / f"{name}.{ext}"
    path.write_bytes(b"#EXTM3U\n" if fmt == "hls" else b"x" * 100)
    video = fmt in ("mp4", "flv", "hls")
    return RecordFile.objects.create(
        app=app,
        domain=domain,
        app_name=app_name,
        stream_name=stream,
        format=fmt,
        start_time=start,
        end_time=start + timedelta(seconds=12),
        duration=12.04,
        size=path.stat().st_size,
        status=status,
        name=name,
        object_key=f"acme/{name}.{ext}",
        local_path=str(path),
        video_codec="h264" if video else "",
        audio_codec="mp3" if fmt == "mp3" else "aac",
        width=320 if video else None,
        height=240 if video else None,
    )


def listed(client: Client, query: str) -> set[str]:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 200, response.content[:500]
    return {str(f.pk) for f in response.context["cl"].result_list}


def player_tag(html: str) -> str:
    match = re.search(r'<(video|audio) id="recordfile-player"[^>]*>', html)
    assert match, "no player in the page"
    return match.group(0)


@pytest.mark.django_db
class TestFileList:
    def test_each_filter_and_the_search_narrow_the_list(self, admin_client: Client, app: App, media: Path) -> None:
        mp4 = make_file(app, media, fmt="mp4")
        hls = make_file(app, media, fmt="hls", stream="cam2", status="backup", minutes=60 * 24 * 3)
        flv = make_file(app, media, fmt="flv", domain="other.tv", app_name="studio", minutes=5)
        everyone = {str(f.pk) for f in (mp4, hls, flv)}

        assert listed(admin_client, "") == everyone
        assert listed(admin_client, "format__exact=hls") == {str(hls.pk)}
        assert listed(admin_client, "status__exact=backup") == {str(hls.pk)}
        assert listed(admin_client, "domain=other.tv") == {str(flv.pk)}
        assert listed(admin_client, "app_name=studio") == {str(flv.pk)}
        assert listed(admin_client, "stream_name=cam2") == {str(hls.pk)}
        assert listed(admin_client, f"app__id__exact={app.pk}") == everyone
        day = "start_time__gte=2026-11-21+00:00:00%2B00:00&start_time__lt=2026-11-22+00:00:00%2B00:00"
        assert listed(admin_client, day) == {str(mp4.pk), str(flv.pk)}
        assert listed(admin_client, "start_time__year=2026&start_time__month=11&start_time__day=24") == {str(hls.pk)}
        assert listed(admin_client, f"q={flv.name}") == {str(flv.pk)}
        assert listed(admin_client, "q=cam2_hls") == {str(hls.pk)}

    def test_the_list_links_each_file_for_download(self, admin_client: Client, app: App, media: Path) -> None:
        make_file(app, media, fmt="mp4")
        html = admin_client.get(LIST).content.decode()
        assert re.search(r'<a href="/files/dl/[^"]+/cam1_mp4_0\.mp4">mp4</a>', html)


@pytest.mark.django_db
class TestFilePage:
    def page(self, client: Client, file: RecordFile) -> str:
        response = client.get(reverse("admin:recordings_recordfile_change", args=[file.pk]))
        assert response.status_code == 200
        return response.content.decode()

    def test_an_mp4_plays_in_a_video_element_without_a_vendor_player(
        self, admin_client: Client, app: App, media: Path
    ) -> None:
        html = self.page(admin_client, make_file(app, media, fmt="mp4"))
        tag = player_tag(html)
        assert tag.startswith("<video") and 'data-format="mp4"' in tag
        assert re.search(r'data-src="/files/dl/[^"]+/cam1_mp4_0\.mp4"', tag)
        assert f'src="/static/{PLAYER_JS}"' in html
        assert "recordings/vendor/" not in html

    def test_an_hls_playlist_plays_through_hls_js(self, admin_client: Client, app: App, media: Path) -> None:
        html = self.page(admin_client, make_file(app, media, fmt="hls"))
        tag = player_tag(html)
        assert tag.startswith("<video") and 'data-format="hls"' in tag
        assert re.search(r'data-src="/files/dl/[^"]+/cam1_hls_0\.m3u8"', tag)
        assert f'<script src="/static/{HLS_JS}" defer></script>' in html
        assert MPEGTS_JS not in html

    def test_an_flv_plays_through_mpegts_js(self, admin_client: Client, app: App, media: Path) -> None:
        html = self.page(admin_client, make_file(app, media, fmt="flv"))
        tag = player_tag(html)
        assert tag.startswith("<video") and 'data-format="flv"' in tag
        assert f'<script src="/static/{MPEGTS_JS}" defer></script>' in html
        assert HLS_JS not in html

    @pytest.mark.parametrize("fmt", ["aac", "mp3"])
    def test_audio_plays_in_an_audio_element(self, admin_client: Client, app: App, media: Path, fmt: str) -> None:
        tag = player_tag(self.page(admin_client, make_file(app, media, fmt=fmt)))
        assert tag.startswith("<audio") and f'data-format="{fmt}"' in tag

    def test_the_page_is_read_only_and_shows_codecs_resolution_duration_size_and_status(
        self, admin_client: Client, app: App, media: Path
    ) -> None:
        file = make_file(app, media, fmt="mp4", status="backup")
        html = self.page(admin_client, file)
        assert 'type="submit" value="Save"' not in html and 'name="_save"' not in html
        for shown in ("h264", "aac", "320×240", "12.04 s (0:00:12.04)", "100 bytes", "held in backup, retrying"):
            assert shown in html, shown
        response = admin_client.post(reverse("admin:recordings_recordfile_change", args=[file.pk]), {"name": "x"})
        assert response.status_code == 403
        file.refresh_from_db()
        assert file.name == "cam1_mp4_0"

    def test_a_file_with_no_local_copy_has_no_player(self, admin_client: Client, app: App, media: Path) -> None:
        file = make_file(app, media, fmt="mp4")
        RecordFile.objects.filter(pk=file.pk).update(local_path="")
        html = self.page(admin_client, file)
        assert 'id="recordfile-player"' not in html
        assert "No copy on this host to play (stored as acme/cam1_mp4_0.mp4)" in html
        assert PLAYER_JS not in html


def test_the_players_and_their_licences_are_committed_static_files() -> None:
    for path in (HLS_JS, MPEGTS_JS, PLAYER_JS, "recordings/player.css"):
        assert finders.find(path), path
    for script in (HLS_JS, MPEGTS_JS):
        folder = Path(str(finders.find(script))).parent
        assert (folder / "LICENSE").read_text().count("Apache License") >= 1, folder
    assert sorted(p.name for p in VENDOR.iterdir()) == ["hls.js-1.7.4", "mpegts.js-1.8.2"]
