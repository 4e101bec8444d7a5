"""Create/Modify/Describe/Describes/Delete LiveRecordTemplate onto ``templates_app`` (vendor-apis.md §1.3–1.4)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from templates_app.choices import Format
from templates_app.constants import DESCRIPTION_MAX, RECORD_INTERVAL_MAX, STORAGE_TIME_MAX
from templates_app.models import RecordTemplate
from templates_app.services import template_create, template_delete, template_update
from vendors.tencent.context import Context
from vendors.tencent.errors import TencentError, out_of_range
from vendors.tencent.params import Params

TEMPLATE_LIMIT = 50
#: Tencent's struct for each of our formats.
STRUCTS = {"flv": "FlvParam", "hls": "HlsParam", "mp4": "Mp4Param", "aac": "AacParam", "mp3": "Mp3Param"}
#: Tencent's RecordInterval range per format (newer SDK text: FLV/MP4 60–43200, AAC 60–7200; MP3 as AAC).
TENCENT_INTERVAL = {"flv": (60, 43200), "mp4": (60, 43200), "aac": (60, 7200), "mp3": (60, 7200)}
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
DEFAULT_INTERVAL = 1800


def interval_bounds(fmt: str) -> tuple[int, int]:
    """The stricter of Tencent's range and ours (``LIVEREC_MIN_RECORD_INTERVAL``, ``RECORD_INTERVAL_MAX``)."""
    low, high = TENCENT_INTERVAL[fmt]
    return max(low, settings.LIVEREC_MIN_RECORD_INTERVAL), min(high, RECORD_INTERVAL_MAX[Format(fmt)])


def _record_param(fmt: str, p: Params) -> tuple[dict[str, Any] | None, str]:
    """A RecordParam as a format setting (None = not recorded) and its VodFileName."""
    enabled = p.integer("Enable", low=0, high=1)
    storage_time = p.integer("StorageTime", low=0, high=STORAGE_TIME_MAX)
    if fmt == "hls":  # Tencent ignores RecordInterval for HLS: one playlist per push
        p.integer("RecordInterval", default=DEFAULT_INTERVAL, low=0)
        interval = 0
    else:
        low, high = interval_bounds(fmt)
        interval = p.integer("RecordInterval", default=DEFAULT_INTERVAL, low=low, high=high)
    p.integer("VodSubAppId", low=0)
    p.integer("ClassId", low=0)
    p.string("Procedure", max_length=128)
    p.choice("StorageMode", ("normal", "cold"), default="normal")
    for cos in ("CosBucketName", "CosBucketRegion", "CosBucketPath"):
        if p.string(cos, max_length=256):
            raise out_of_range(
                p.name(cos),
                "is not supported here: files go to the storage target of the push domain (set it in the console)",
            )
    file_name = p.string("VodFileName", max_length=256)
    if not enabled:
        return None, file_name
    return {"enabled": True, "record_interval": interval, "storage_time": storage_time}, file_name


def _fields(p: Params, *, creating: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "TemplateName" in p.data or creating:
        name = p.string("TemplateName", required=creating, max_length=64)
        if not _NAME.match(name):
            raise out_of_range("TemplateName", "must be 1–64 letters, digits, '_' or '-'")
        fields["name"] = name
    if "Description" in p.data:
        fields["description"] = p.string("Description", max_length=DESCRIPTION_MAX)
    file_names: list[str] = []
    for fmt, struct_name in STRUCTS.items():
        struct = p.struct(struct_name)
        if struct is not None:
            fields[fmt], file_name = _record_param(fmt, struct)
            file_names += [file_name] if file_name else []
    if len(set(file_names)) > 1:
        raise out_of_range("VodFileName", "must be the same in every format's parameters")
    if file_names:
        fields["file_name_template"] = file_names[0]
    if creating:
        if p.integer("IsDelayLive", low=0, high=1):
            raise out_of_range("IsDelayLive", "must be 0: slow live (LCB) is not offered")
        if p.integer("CosStore", low=0, high=1):
            raise out_of_range("CosStore", "must be 0: files go to the storage target of the push domain")
    hls_special = p.struct("HlsSpecialParam")
    if hls_special is not None:
        fields["hls_continue_duration"] = hls_special.integer("FlowContinueDuration", low=0, high=1800)
    flv_special = p.struct("FlvSpecialParam")
    if flv_special is not None:
        flv_special.boolean("UploadInRecording")
    p.boolean("RemoveWatermark")
    return fields


def template_of(ctx: Context, template_id: int) -> RecordTemplate:
    template = RecordTemplate.objects.filter(app=ctx.app, pk=template_id).first()
    if template is None:
        raise TencentError("InvalidParameter.TemplateNotFound", f"The record template {template_id} does not exist.")
    return template


def _record_param_info(template: RecordTemplate, fmt: str) -> dict[str, Any]:
    settings_ = template.format_settings(fmt)
    return {
        "RecordInterval": settings_["record_interval"] if fmt != "hls" else DEFAULT_INTERVAL,
        "StorageTime": settings_["storage_time"],
        "Enable": int(settings_["enabled"]),
        "VodSubAppId": 0,
        "VodFileName": template.file_name_template,
        "Procedure": "",
        "StorageMode": "normal",
        "ClassId": 0,
    }


def template_info(template: RecordTemplate) -> dict[str, Any]:
    """A RecordTemplateInfo."""
    info: dict[str, Any] = {
        "TemplateId": template.pk,
        "TemplateName": template.name,
        "Description": template.description,
    }
    info |= {struct: _record_param_info(template, fmt) for fmt, struct in STRUCTS.items()}
    info |= {
        "IsDelayLive": 0,
        "HlsSpecialParam": {"FlowContinueDuration": template.hls_continue_duration},
        "RemoveWatermark": True,
        "FlvSpecialParam": {"UploadInRecording": False},
    }
    return info


def create_live_record_template(ctx: Context, p: Params) -> dict[str, Any]:
    fields = _fields(p, creating=True)
    if RecordTemplate.objects.filter(app=ctx.app).count() >= TEMPLATE_LIMIT:
        raise TencentError("InternalError.ConfOutLimit", f"At most {TEMPLATE_LIMIT} record templates per app.")
    name = fields.pop("name")
    template = template_create(app=ctx.app, name=name, **fields)
    return {"TemplateId": template.pk}


def modify_live_record_template(ctx: Context, p: Params) -> dict[str, Any]:
    template = template_of(ctx, p.integer("TemplateId", required=True))
    fields = _fields(p, creating=False)
    template_update(instance=template, partial=True, **fields)
    return {}


def describe_live_record_template(ctx: Context, p: Params) -> dict[str, Any]:
    return {"Template": template_info(template_of(ctx, p.integer("TemplateId", required=True)))}


def describe_live_record_templates(ctx: Context, p: Params) -> dict[str, Any]:
    if p.integer("IsDelayLive", low=0, high=1):
        return {"Templates": []}
    return {"Templates": [template_info(t) for t in RecordTemplate.objects.filter(app=ctx.app).order_by("pk")]}


def delete_live_record_template(ctx: Context, p: Params) -> dict[str, Any]:
    template = template_of(ctx, p.integer("TemplateId", required=True))
    if template.rules.exists():
        raise TencentError("InvalidParameter.ConfInUsed", f"The record template {template.pk} is used by a rule.")
    template_delete(instance=template)
    return {}
