"""AddLiveDomain / DescribeLiveDomains / DeleteLiveDomain onto push domains, and DescribeLiveStreamOnlineList."""

from __future__ import annotations

import math
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError

from recordings.choices import SessionStatus
from recordings.models import PublishSession
from rules.models import Domain, RecordRule
from rules.services import domain_create, domain_delete, domain_name_normalize
from rules.validators import validate_domain_name
from vendors.tencent.context import Context
from vendors.tencent.errors import TencentError, out_of_range
from vendors.tencent.params import Params, cst_string
from vendors.tencent.record_rules import push_domain

DOMAIN_MAX = 253


def _push_type(p: Params) -> None:
    if p.integer("DomainType", required=True, low=0, high=1):
        raise out_of_range("DomainType", "must be 0: this service has push domains only (playback is the files')")


def add_live_domain(ctx: Context, p: Params) -> dict[str, Any]:
    raw = p.string("DomainName", required=True, max_length=1024)
    _push_type(p)
    p.integer("PlayType", default=1, low=1, high=3)
    if p.integer("IsDelayLive", low=0, high=1):
        raise out_of_range("IsDelayLive", "must be 0: slow live (LCB) is not offered")
    p.integer("IsMiniProgramLive", low=0, high=1)
    p.string("VerifyOwnerType", max_length=32)
    name = domain_name_normalize(raw)
    if len(name) > DOMAIN_MAX:
        raise TencentError("InvalidParameter.DomainTooLong", f"DomainName must be at most {DOMAIN_MAX} characters.")
    try:
        validate_domain_name(name)
    except ValidationError as exc:
        raise TencentError("InvalidParameter.DomainFormatError", f"DomainName {exc.messages[0]}.") from exc
    if Domain.objects.filter(name=name).exists():
        raise TencentError("InvalidParameter.DomainAlreadyExist", f"The domain `{name}` is already added.")
    domain_create(app=ctx.app, name=name)
    return {}


def _domain_info(domain: Domain) -> dict[str, Any]:
    return {
        "Name": domain.name,
        "Type": 0,
        "Status": 1,
        "CreateTime": cst_string(domain.created),
        "BCName": 0,
        "TargetDomain": "",
        "PlayType": 1,
        "IsDelayLive": 0,
        "CurrentCName": "",
        "RentTag": 0,
        "RentExpireTime": "",
        "IsMiniProgramLive": 0,
    }


def describe_live_domains(ctx: Context, p: Params) -> dict[str, Any]:
    status = p.integer("DomainStatus", default=1, low=0, high=1)
    domain_type = p.integer("DomainType", default=0, low=0, high=1)
    size = p.integer("PageSize", default=10, low=10, high=100)
    number = p.integer("PageNum", default=1, low=1, high=100000)
    delay = p.integer("IsDelayLive", low=0, high=1)
    prefix = p.string("DomainPrefix", max_length=DOMAIN_MAX).lower()
    p.integer("PlayType", default=1, low=1, high=3)
    domains = Domain.objects.filter(app=ctx.app, name__startswith=prefix).order_by("pk")
    if status == 0 or domain_type == 1 or delay == 1:  # none is disabled, a play domain or slow live
        domains = domains.none()
    total = domains.count()
    page = list(domains[(number - 1) * size : number * size])
    return {
        "AllCount": total,
        "DomainList": [_domain_info(d) for d in page],
        "CreateLimitCount": 0,
        "PlayTypeCount": [0, 0, 0],
    }


def delete_live_domain(ctx: Context, p: Params) -> dict[str, Any]:
    domain = push_domain(ctx, p.string("DomainName", required=True, max_length=1024))
    _push_type(p)
    if RecordRule.objects.filter(app=ctx.app, domain=domain.name).exists() or domain.vendor_keys.exists():
        raise TencentError("FailedOperation.ConfInUsed", f"The domain `{domain.name}` is used by rules or vendor keys.")
    domain_delete(instance=domain)
    return {}


def describe_live_stream_online_list(ctx: Context, p: Params) -> dict[str, Any]:
    domain_name = p.string("DomainName", max_length=DOMAIN_MAX)
    app_name = p.string("AppName", max_length=128)
    number = p.integer("PageNum", default=1, low=1, high=100000)
    size = p.integer("PageSize", default=10, low=10, high=300000)
    stream_name = p.string("StreamName", max_length=128)
    live = PublishSession.objects.filter(app=ctx.app, status=SessionStatus.LIVE)
    if domain_name:
        live = live.filter(domain_name=domain_name_normalize(domain_name))
    if app_name:
        live = live.filter(app_name=app_name)
    if stream_name:
        live = live.filter(stream_name=stream_name)
    live = live.order_by("domain_name", "app_name", "stream_name", "started_at")
    total = live.count()
    page = list(live[(number - 1) * size : number * size])
    return {
        "TotalNum": total,
        "TotalPage": math.ceil(total / size),
        "PageNum": number,
        "PageSize": size,
        "OnlineInfo": [
            {
                "StreamName": s.stream_name,
                "AppName": s.app_name,
                "DomainName": s.domain_name,
                "PublishTimeList": [{"PublishTime": s.started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}],
                "PushToDelay": 0,
            }
            for s in page
        ],
    }
