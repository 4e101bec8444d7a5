from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from liverecord.admin import ServiceAdminMixin
from rules.forms import RuleMatchForm
from rules.models import Domain, RecordRule, StorageTarget
from rules.selectors import rule_candidates, rule_match, rule_priority
from rules.services import (
    domain_create,
    domain_delete,
    domain_update,
    rule_create,
    rule_delete,
    rule_update,
    storage_target_create,
    storage_target_delete,
    storage_target_update,
)


@admin.register(StorageTarget)
class StorageTargetAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "app", "provider", "bucket", "region", "endpoint_url", "prefix"]
    list_filter = ["app", "provider"]
    search_fields = ["name", "bucket", "endpoint_url", "prefix"]
    secret_fields = ("secret_access_key",)

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> StorageTarget:
        return storage_target_create(**data)

    def service_update(self, request: HttpRequest, obj: StorageTarget, data: dict[str, Any]) -> StorageTarget:
        return storage_target_update(instance=obj, **data)

    def service_delete(self, request: HttpRequest, obj: StorageTarget) -> None:
        storage_target_delete(instance=obj)


@admin.register(Domain)
class DomainAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Push domains. Renaming one renames it in its rules (the service does), so they keep matching."""

    list_display = ["name", "app", "push_auth_enabled", "callback_url", "storage", "lookback_seconds"]
    list_filter = ["app", "push_auth_enabled", "storage"]
    search_fields = ["name", "callback_url"]
    secret_fields = ("push_auth_key", "push_auth_backup_key", "callback_key")

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> Domain:
        return domain_create(**data)

    def service_update(self, request: HttpRequest, obj: Domain, data: dict[str, Any]) -> Domain:
        return domain_update(instance=obj, **data)

    def service_delete(self, request: HttpRequest, obj: Domain) -> None:
        domain_delete(instance=obj)


@admin.register(RecordRule)
class RecordRuleAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "app", "domain", "app_name", "stream_name", "template", "level"]
    list_filter = ["app", "template"]
    search_fields = ["domain", "app_name", "stream_name", "template__name"]
    list_select_related = ["template", "app"]

    @admin.display(description="priority level")
    def level(self, obj: RecordRule) -> int:
        return rule_priority(obj)

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> RecordRule:
        return rule_create(**data)

    def service_update(self, request: HttpRequest, obj: RecordRule, data: dict[str, Any]) -> RecordRule:
        return rule_update(instance=obj, **data)

    def service_delete(self, request: HttpRequest, obj: RecordRule) -> None:
        rule_delete(instance=obj)

    def get_urls(self) -> list[URLPattern]:
        tester = path("match/", self.admin_site.admin_view(self.match_view), name="rules_recordrule_match")
        return [tester, *super().get_urls()]

    def match_view(self, request: HttpRequest) -> HttpResponse:
        """Which rule wins for this push? Shows the winner and every rule that also matched."""
        form = RuleMatchForm(request.GET or None)
        winner, candidates = None, []
        if form.is_valid():
            data = form.cleaned_data
            winner = rule_match(
                app=data["app"],
                domain=data["domain"],
                app_name=data["app_name"],
                stream_name=data["stream_name"],
            )
            candidates = sorted(
                rule_candidates(
                    app=data["app"],
                    domain=data["domain"],
                    app_name=data["app_name"],
                    stream_name=data["stream_name"],
                ),
                key=rule_priority,
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Which rule wins for this push?",
            "form": form,
            "winner": winner,
            "candidates": [(rule, rule_priority(rule)) for rule in candidates],
            "searched": form.is_bound and form.is_valid(),
        }
        return TemplateResponse(request, "admin/rules/recordrule/match.html", context)
