"""Vendor keys in the console: listed, described and revoked; made by ``create_vendor_key`` (secret shown once)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from liverecord.admin import ServiceAdminMixin
from vendors.models import VendorKey
from vendors.services import vendor_key_revoke, vendor_key_update


@admin.register(VendorKey)
class VendorKeyAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The secret is never shown: it is not among the fields."""

    list_display = ["key_id", "vendor", "app", "domain", "description", "created", "last_used_at", "revoked_at"]
    list_filter = ["vendor", "app", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key_id", "vendor_app_id", "description", "app__name"]
    fields = [
        "app",
        "vendor",
        "key_id",
        "vendor_app_id",
        "domain",
        "description",
        "created",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["app", "vendor", "key_id", "vendor_app_id", "domain", "created", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def service_update(self, request: HttpRequest, obj: VendorKey, data: dict[str, Any]) -> VendorKey:
        return vendor_key_update(key=obj, description=data.get("description", obj.description))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke selected vendor keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[VendorKey]) -> None:
        for key in queryset:
            vendor_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} vendor key(s).")
