from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from liverecord.models import ApiKey, App
from liverecord.services import api_key_create, api_key_revoke

admin.site.site_header = "liverecord console"
admin.site.site_title = "liverecord"
admin.site.index_title = "Recording service"


class ApiKeyInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ApiKey
    fields = ["prefix", "description", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created", "last_used_at", "revoked_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(App)
class AppAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "id", "is_active", "created"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [ApiKeyInline]
    actions = ["make_api_key"]

    @admin.action(description="Create a new API key (shown once)")
    def make_api_key(self, request: HttpRequest, queryset: QuerySet[App]) -> None:
        for app in queryset:
            _, raw_key = api_key_create(app=app, description=f"made in the console by {request.user}")
            self.message_user(request, f"New key for {app} (id {app.pk}), shown once: {raw_key}", messages.WARNING)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["prefix", "app", "description", "created", "last_used_at", "revoked_at"]
    list_filter = ["app", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "description", "app__name"]
    fields = ["app", "prefix", "description", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["app", "prefix", "created", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")
