"""``POST /``: Tencent Cloud API 3.0 for CSS (live) version 2018-08-01, as the official SDKs call it.

Every answer is HTTP 200 with ``application/json``, as Tencent's endpoint answers: the SDK takes any other
status for a network failure and reads errors only from a JSON body.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liverecord.api.throttling import app_rate_wait
from liverecord.errors import ConflictError
from vendors.choices import Vendor
from vendors.selectors import vendor_key_active
from vendors.services import vendor_key_used
from vendors.tencent import live_domains, record_rules, record_tasks, record_templates
from vendors.tencent.context import Context
from vendors.tencent.errors import TencentError
from vendors.tencent.params import Params
from vendors.tencent.signing import SignedRequest, verify

logger = logging.getLogger(__name__)

API_VERSION = "2018-08-01"
Action = Callable[[Context, Params], dict[str, Any]]
ACTIONS: dict[str, Action] = {
    "CreateLiveRecordTemplate": record_templates.create_live_record_template,
    "ModifyLiveRecordTemplate": record_templates.modify_live_record_template,
    "DescribeLiveRecordTemplate": record_templates.describe_live_record_template,
    "DescribeLiveRecordTemplates": record_templates.describe_live_record_templates,
    "DeleteLiveRecordTemplate": record_templates.delete_live_record_template,
    "CreateLiveRecordRule": record_rules.create_live_record_rule,
    "DescribeLiveRecordRules": record_rules.describe_live_record_rules,
    "DeleteLiveRecordRule": record_rules.delete_live_record_rule,
    "CreateLiveRecord": record_tasks.create_live_record,
    "StopLiveRecord": record_tasks.stop_live_record,
    "DeleteLiveRecord": record_tasks.delete_live_record,
    "CreateRecordTask": record_tasks.create_record_task,
    "StopRecordTask": record_tasks.stop_record_task,
    "DeleteRecordTask": record_tasks.delete_record_task,
    "DescribeRecordTask": record_tasks.describe_record_task,
    "DescribeLiveStreamOnlineList": live_domains.describe_live_stream_online_list,
    "AddLiveDomain": live_domains.add_live_domain,
    "DescribeLiveDomains": live_domains.describe_live_domains,
    "DeleteLiveDomain": live_domains.delete_live_domain,
}
#: Our services' field names in the error messages, as Tencent names them.
FIELD_NAMES = {
    "name": "TemplateName",
    "description": "Description",
    "file_name_template": "VodFileName",
    "hls_continue_duration": "HlsSpecialParam.FlowContinueDuration",
    "end_time": "EndTime",
    "start_time": "StartTime",
    "domain": "DomainName",
    "template": "TemplateId",
    "app_name": "AppName",
    "stream_name": "StreamName",
}

#: The clock of signature checks and actions; tests replace it.
clock: Callable[[], datetime] = timezone.now


def _answer(body: dict[str, Any], request_id: str) -> JsonResponse:
    return JsonResponse({"Response": {**body, "RequestId": request_id}}, json_dumps_params={"ensure_ascii": False})


def _error(code: str, message: str, request_id: str) -> JsonResponse:
    return _answer({"Error": {"Code": code, "Message": message}}, request_id)


def _signed(request: HttpRequest) -> SignedRequest:
    headers = {name.lower(): value for name, value in request.headers.items()}
    return SignedRequest(
        method=request.method or "POST",
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        headers=headers,
        body=request.body,
    )


def _validation_message(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(f"`{FIELD_NAMES.get(k, k)}` {' '.join(v)}" for k, v in exc.message_dict.items())


def _run(request: HttpRequest) -> dict[str, Any]:
    now = clock()
    signed = _signed(request)
    keys: dict[str, Any] = {}

    def secret_for(secret_id: str) -> str | None:
        key = vendor_key_active(vendor=Vendor.TENCENT, key_id=secret_id[:64])
        keys["key"] = key
        return key.secret if key is not None else None

    verify(signed, secret_for=secret_for, now=now)
    key = keys["key"]
    action_name = signed.headers.get("x-tc-action", "")
    if not action_name:
        raise TencentError("MissingParameter", "The request is missing a required parameter `X-TC-Action`.")
    action = ACTIONS.get(action_name)
    if action is None:
        raise TencentError("InvalidAction", f"The action `{action_name[:64]}` is not supported.")
    version = signed.headers.get("x-tc-version", "")
    if version != API_VERSION:
        raise TencentError("InvalidParameterValue", f"The `X-TC-Version` must be {API_VERSION}, not `{version[:32]}`.")
    try:
        data = json.loads(signed.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise TencentError("InvalidParameter", "The request body is not valid JSON.") from exc
    if app_rate_wait(app_id=key.app_id, now=now.timestamp()) is not None:
        raise TencentError("RequestLimitExceeded", "The App sends more requests a second than LIVEREC_API_RATE allows.")
    vendor_key_used(key=key, now=now)
    ctx = Context(app=key.app, key=key, now=now)
    try:
        with transaction.atomic():
            return action(ctx, Params(data))
    except ValidationError as exc:
        raise TencentError("InvalidParameterValue", _validation_message(exc)) from exc
    except ConflictError as exc:
        raise TencentError("FailedOperation", exc.message) from exc


@csrf_exempt
@require_POST
def tencent_api(request: HttpRequest) -> JsonResponse:
    request_id = str(uuid.uuid4())
    try:
        return _answer(_run(request), request_id)
    except TencentError as exc:
        return _error(exc.code, exc.message, request_id)
    except RequestDataTooBig:
        return _error("InvalidParameter", "The request body is too large.", request_id)
    except Exception:  # the SDK must get Tencent's envelope whatever went wrong, never a bare 500
        logger.exception("tencent facade: unexpected error (request %s)", request_id)
        return _error("InternalError", "An internal error occurred; retry later.", request_id)
