"""Downloads of locally stored files through signed, expiring URLs (HLS segments resolve beside their playlist)."""

from __future__ import annotations

import re
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest

from recordings.file_locations import content_type
from recordings.selectors import file_for_download_token
from templates_app.choices import Format


def file_download(request: HttpRequest, token: str, filename: str) -> FileResponse:
    record = file_for_download_token(token)
    if record is None or not record.local_path:
        raise Http404("link expired or unknown")
    main = Path(record.local_path)
    if filename == main.name:
        path = main
    elif record.format == Format.HLS and re.fullmatch(re.escape(main.stem) + r"_\d+\.ts", filename):
        path = main.parent / filename
    else:
        raise Http404("not a file of this recording")
    if not path.is_file():
        raise Http404("file is gone")
    response = FileResponse(path.open("rb"), content_type=content_type(path) or "application/octet-stream")
    response["Access-Control-Allow-Origin"] = "*"
    return response
