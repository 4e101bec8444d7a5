from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from liverecord.errors import ConflictError
from rules.forms import RuleMatchForm
from rules.models import Domain, RecordRule, StorageTarget
from rules.selectors import rule_candidates, rule_match, rule_priority
from rules.services import domain_delete, storage_target_delete

SECRET_HELP = "Stored encrypted. Leave empty to keep the current value."  # noqa: S105 - help text


def _secret_widgets(fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: forms.PasswordInput(render_value=False) for name in fields}


class _ServiceDeleteMixin:
    delete_service: Any

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            type(self).delete_service(instance=obj)
        except ConflictError as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class _SecretAdminMixin:
    secret_fields: tuple[str, ...] = ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["widgets"] = {**kwargs.get("widgets", {}), **_secret_widgets(self.secret_fields)}
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        for name in self.secret_fields:
            if name in form.base_fields:
                form.base_fields[name].required = False
                form.base_fields[name].help_text = SECRET_HELP
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            stored = type(obj).objects.get(pk=obj.pk)
            for name in self.secret_fields:
                if not form.cleaned_data.get(name):
                    setattr(obj, name, getattr(stored, name))
        super().save_model(request, obj, form, change)  # type: ignore[misc]


@admin.register(StorageTarget)
class StorageTargetAdmin(_SecretAdminMixin, _ServiceDeleteMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "app", "provider", "bucket", "region", "endpoint_url", "prefix"]
    list_filter = ["app", "provider"]
    search_fields = ["name", "bucket", "endpoint_url", "prefix"]
    secret_fields = ("secret_access_key",)
    delete_service = storage_target_delete


@admin.register(Domain)
class DomainAdmin(_SecretAdminMixin, _ServiceDeleteMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "app", "push_auth_enabled", "callback_url", "storage", "lookback_seconds"]
    list_filter = ["app", "push_auth_enabled", "storage"]
    search_fields = ["name", "callback_url"]
    secret_fields = ("push_auth_key", "push_auth_backup_key", "callback_key")
    delete_service = domain_delete

    def save_model(self, request: HttpRequest, obj: Domain, form: Any, change: bool) -> None:
        obj.name = obj.name.lower()
        super().save_model(request, obj, form, change)


@admin.register(RecordRule)
class RecordRuleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["__str__", "app", "domain", "app_name", "stream_name", "template", "level"]
    list_filter = ["app", "template"]
    search_fields = ["domain", "app_name", "stream_name", "template__name"]
    list_select_related = ["template", "app"]

    @admin.display(description="priority level")
    def level(self, obj: RecordRule) -> int:
        return rule_priority(obj)

    def save_model(self, request: HttpRequest, obj: RecordRule, form: Any, change: bool) -> None:
        obj.domain = obj.domain.lower()
        if obj.template.app_id != obj.app_id:
            raise ValidationError("the template belongs to another app")
        super().save_model(request, obj, form, change)

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
                domain=data["domain"].lower(),
                app_name=data["app_name"],
                stream_name=data["stream_name"],
            )
            candidates = sorted(
                rule_candidates(
                    app=data["app"],
                    domain=data["domain"].lower(),
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
