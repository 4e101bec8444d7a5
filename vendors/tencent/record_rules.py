"""Create/Describe/Delete LiveRecordRule onto ``rules`` (vendor-apis.md §1.5)."""

from __future__ import annotations

import re
from typing import Any

from rules.constants import STREAM_PART_MESSAGE, STREAM_PART_PATTERN
from rules.models import Domain, RecordRule
from rules.services import domain_name_normalize, rule_create, rule_delete
from vendors.tencent.context import Context
from vendors.tencent.errors import TencentError, out_of_range
from vendors.tencent.params import Params, cst_string
from vendors.tencent.record_templates import template_of

RULE_LIMIT = 50
_STREAM_PART = re.compile(STREAM_PART_PATTERN)


def push_domain(ctx: Context, name: str, *, key: str = "DomainName") -> Domain:
    """A push domain of the App, or Tencent's "no such push domain"."""
    domain = Domain.objects.filter(app=ctx.app, name=domain_name_normalize(name)).first()
    if domain is None:
        raise TencentError("ResourceNotFound.PushDomainNoRecord", f"The push domain `{name}` ({key}) does not exist.")
    return domain


def stream_part(p: Params, key: str, *, required: bool = False, default: str = "") -> str:
    """An AppName or StreamName, refused with the REST API's reason when it holds URL syntax."""
    value = p.string(key, required=required, default=default, max_length=128)
    if not _STREAM_PART.match(value):
        raise out_of_range(key, STREAM_PART_MESSAGE)
    return value


def rule_info(rule: RecordRule) -> dict[str, Any]:
    return {
        "TemplateId": rule.template_id,
        "DomainName": rule.domain,
        "AppName": rule.app_name,
        "StreamName": rule.stream_name,
        "CreateTime": cst_string(rule.created),
        "UpdateTime": cst_string(rule.updated),
    }


def create_live_record_rule(ctx: Context, p: Params) -> dict[str, Any]:
    domain = push_domain(ctx, p.string("DomainName", required=True, max_length=253))
    template = template_of(ctx, p.integer("TemplateId", required=True))
    app_name = stream_part(p, "AppName")
    stream_name = stream_part(p, "StreamName")
    exists = RecordRule.objects.filter(app=ctx.app, domain=domain.name, app_name=app_name, stream_name=stream_name)
    if exists.exists():
        raise TencentError(
            "FailedOperation.RuleAlreadyExist", "A rule for this DomainName, AppName and StreamName exists."
        )
    if RecordRule.objects.filter(app=ctx.app).count() >= RULE_LIMIT:
        raise TencentError("InternalError.RuleOutLimit", f"At most {RULE_LIMIT} record rules per app.")
    rule_create(app=ctx.app, template=template, domain=domain.name, app_name=app_name, stream_name=stream_name)
    return {}


def describe_live_record_rules(ctx: Context, p: Params) -> dict[str, Any]:
    return {"Rules": [rule_info(r) for r in RecordRule.objects.filter(app=ctx.app).order_by("pk")]}


def delete_live_record_rule(ctx: Context, p: Params) -> dict[str, Any]:
    domain = domain_name_normalize(p.string("DomainName", required=True, max_length=253))
    app_name = p.string("AppName", max_length=128)
    stream_name = p.string("StreamName", max_length=128)
    rule = RecordRule.objects.filter(app=ctx.app, domain=domain, app_name=app_name, stream_name=stream_name).first()
    if rule is None:
        raise TencentError(
            "InvalidParameter.RuleNotFound", "No rule has exactly this DomainName, AppName and StreamName."
        )
    rule_delete(instance=rule)
    return {}
