from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.http import HttpRequest

from liverecord.admin import ServiceAdminMixin
from templates_app.choices import Format
from templates_app.models import RecordTemplate
from templates_app.services import template_delete, template_save


@admin.register(RecordTemplate)
class RecordTemplateAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "app", "formats", "snapshots", "record_type", "hls_continue_duration", "updated"]
    list_filter = ["app", "record_type", "flv_enabled", "hls_enabled", "mp4_enabled", "aac_enabled", "mp3_enabled"]
    search_fields = ["name", "description", "app__name"]
    fieldsets: ClassVar[Any] = [
        (None, {"fields": ["app", "name", "description", "record_type", "file_name_template"]}),
        *[
            (
                fmt.label,
                {
                    "fields": [(f"{fmt.value}_enabled", f"{fmt.value}_record_interval", f"{fmt.value}_storage_time")],
                    "description": "HLS ignores the file length: one playlist per push." if fmt == Format.HLS else "",
                },
            )
            for fmt in Format
        ],
        ("HLS reconnect", {"fields": ["hls_continue_duration"]}),
        (
            "Snapshots",
            {
                "fields": ["snapshot", "snapshot_name_template"],
                "description": 'A JPEG every interval seconds (2–3600), e.g. {"enabled": true, "interval": 10, '
                '"storage_time": 0}; empty is off.',
            },
        ),
    ]

    @admin.display(description="formats")
    def formats(self, obj: RecordTemplate) -> str:
        return ", ".join(f.upper() for f in obj.enabled_formats) or "none (do not record)"

    @admin.display(description="snapshots")
    def snapshots(self, obj: RecordTemplate) -> str:
        section = obj.snapshot_settings
        return f"every {section['interval']} s" if section and section["enabled"] else "off"

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> RecordTemplate:
        return template_save(template=RecordTemplate(**data))

    def service_update(self, request: HttpRequest, obj: RecordTemplate, data: dict[str, Any]) -> RecordTemplate:
        for name, value in data.items():
            setattr(obj, name, value)
        return template_save(template=obj)

    def service_delete(self, request: HttpRequest, obj: RecordTemplate) -> None:
        template_delete(instance=obj)
