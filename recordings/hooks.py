"""Ingest hooks: nginx-rtmp and SRS tell the service when a push starts and ends (SPEC.md, "Ingest hooks").

A hook only checks, writes rows and enqueues; it never waits on media, so it answers in milliseconds.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liverecord.ops.metrics import HOOK_LATENCY
from recordings.services import PushInfo, PushRefused, session_close, session_open

log = logging.getLogger(__name__)

MAX_HOOK_BODY = 64 * 1024
NGINX_FIELDS = frozenset(
    {"call", "app", "name", "tcurl", "addr", "clientid", "flashver", "swfurl", "pageurl", "type", "time", "timestamp"}
)


def _token_ok(request: HttpRequest) -> bool:
    return hmac.compare_digest(request.GET.get("token", ""), str(settings.LIVEREC_HOOK_TOKEN))


def _ingest(request: HttpRequest) -> str:
    """host:port the recorder pulls from: the hook URL says it, else the calling host on the RTMP port."""
    return request.GET.get("ingest") or f"{request.META.get('REMOTE_ADDR', '127.0.0.1')}:{settings.LIVEREC_RTMP_PORT}"


def _ingest_record_dir(request: HttpRequest) -> str:
    """nginx-rtmp's record_path, from the hook URL (deploy/nginx_rtmp.py adds it): an absolute folder or ""."""
    value = request.GET.get("record_dir", "")
    if not value or not value.startswith("/") or len(value) > 512 or "\0" in value:
        return ""
    if any(part == ".." for part in value.split("/")):
        return ""
    return value


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"code": "invalid_parameter", "message": message}, status=400)


def _too_large(request: HttpRequest) -> JsonResponse | None:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_HOOK_BODY:
        return JsonResponse(
            {"code": "too_large", "message": f"hook bodies are at most {MAX_HOOK_BODY} bytes"}, status=413
        )
    return None


def _required(data: Mapping[str, str], *names: str) -> str | None:
    missing = [name for name in names if not str(data.get(name, "")).strip()]
    return f"missing field(s): {', '.join(missing)}" if missing else None


@csrf_exempt
@require_POST
@HOOK_LATENCY.labels("nginx-rtmp").time()
def nginx_rtmp_hook(request: HttpRequest) -> HttpResponse:
    """``on_publish`` / ``on_publish_done`` of nginx-rtmp: form fields, the push query merged in."""
    if not _token_ok(request):
        return JsonResponse({"code": "forbidden", "message": "wrong hook token"}, status=403)
    if (refusal := _too_large(request)) is not None:
        return refusal
    form = request.POST
    call = form.get("call", "")
    if call in ("update_publish", "update_play", "update", "play", "play_done", "done"):
        return HttpResponse(status=200)
    if call not in ("publish", "publish_done"):
        return _bad_request("call must be publish or publish_done")
    if (problem := _required(form, "app", "name", "tcurl")) is not None:
        return _bad_request(problem)
    host = (urlsplit(form["tcurl"]).hostname or "").lower()
    if not host:
        return _bad_request("tcurl has no host")
    if call == "publish_done":
        session_close(host=host, app_name=form["app"], stream_name=form["name"], client_id=form.get("clientid", ""))
        return HttpResponse(status=200)
    params = {key: form[key] for key in form if key not in NGINX_FIELDS}
    return _open(
        PushInfo(
            host=host,
            app_name=form["app"],
            stream_name=form["name"],
            params=params,
            stream_param=urlencode(params),
            client_addr=form.get("addr", ""),
            client_id=form.get("clientid", ""),
            ingest=_ingest(request),
            ingest_record_dir=_ingest_record_dir(request),
        ),
        refuse=lambda reason: JsonResponse({"code": "forbidden", "message": reason}, status=403),
        allow=lambda: HttpResponse(status=200),
    )


@csrf_exempt
@require_POST
@HOOK_LATENCY.labels("srs").time()
def srs_hook(request: HttpRequest) -> HttpResponse:
    """SRS ``on_publish`` / ``on_unpublish``: JSON; 200 with body ``0`` allows, a non-zero code refuses."""
    if not _token_ok(request):
        return JsonResponse({"code": 403, "message": "wrong hook token"}, status=403)
    if (refusal := _too_large(request)) is not None:
        return refusal
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"code": 400, "message": "body is not JSON"}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"code": 400, "message": "body must be a JSON object"}, status=400)
    action = data.get("action")
    if action not in ("on_publish", "on_unpublish"):
        return JsonResponse({"code": 400, "message": "action must be on_publish or on_unpublish"}, status=400)
    if (problem := _required(data, "vhost", "app", "stream")) is not None:
        return JsonResponse({"code": 400, "message": problem}, status=400)
    host, app_name, stream_name = str(data["vhost"]).lower(), str(data["app"]), str(data["stream"])
    if host == "__defaultvhost__" and data.get("tcUrl"):
        host = (urlsplit(str(data["tcUrl"])).hostname or host).lower()
    if action == "on_unpublish":
        session_close(host=host, app_name=app_name, stream_name=stream_name, client_id=str(data.get("client_id", "")))
        return HttpResponse("0")
    param = str(data.get("param", "")).lstrip("?")
    return _open(
        PushInfo(
            host=host,
            app_name=app_name,
            stream_name=stream_name,
            params=dict(parse_qsl(param)),
            stream_param=param,
            client_addr=str(data.get("ip", "")),
            client_id=str(data.get("client_id", "")),
            ingest=_ingest(request),
        ),
        refuse=lambda reason: JsonResponse({"code": 403, "message": reason}, status=403),
        allow=lambda: HttpResponse("0"),
    )


def _open(push: PushInfo, *, refuse: object, allow: object) -> HttpResponse:
    if not push.app_name or len(push.app_name) > 128 or len(push.stream_name) > 128 or len(push.host) > 253:
        return _bad_request("app, stream or host name too long or empty")
    try:
        session_open(push=push)
    except PushRefused as exc:
        log.info("push refused: %s/%s/%s: %s", push.host, push.app_name, push.stream_name, exc.reason)
        return refuse(exc.reason)  # type: ignore[operator,no-any-return]
    return allow()  # type: ignore[operator,no-any-return]
