"""The console's shared admin machinery (every write through a service) and the tenant pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from liverecord.errors import ConflictError
from liverecord.models import ApiKey, App
from liverecord.services import api_key_create, api_key_revoke, api_key_update, app_create, app_update

SECRET_HELP = "Stored encrypted. Leave empty to keep the current value."  # noqa: S105 - help text


def add_service_errors(form: forms.BaseForm, exc: ValidationError | ConflictError) -> None:
    """A service's refusal as form errors: on the field it names when the form has it, else above the form."""
    if isinstance(exc, ConflictError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        else:
            label = "" if field == NON_FIELD_ERRORS else f"{field}: "
            form.add_error(None, [f"{label}{message}" for message in errors])


class ServiceForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form whose validation ends in the admin's service call instead of a ``save()``.

    The service validates (the model's own checks included) and writes in a savepoint, while the form validates:
    whatever it refuses is shown on the form, the page answers 200 with the errors, and nothing is half-written.
    """

    service_admin: ServiceAdminMixin
    service_request: HttpRequest

    def _post_clean(self) -> None:
        if self.errors:  # the fields' own checks failed: nothing to hand to the service
            return
        admin_ = self.service_admin
        data = dict(self.cleaned_data)
        try:
            with transaction.atomic():
                if self.instance.pk is None:
                    self.instance = admin_.service_create(self.service_request, data)
                else:
                    stored = type(self.instance)._default_manager.get(pk=self.instance.pk)
                    changed = {
                        name: data[name]
                        for name in self.changed_data
                        if name in data and not (name in admin_.secret_fields and not data[name])
                    }
                    self.instance = admin_.service_update(self.service_request, stored, changed)
        except (ValidationError, ConflictError) as exc:
            add_service_errors(self, exc)


class ServiceAdminMixin:
    """Admin writes go through services (the HackSoft rule the API follows too), errors land on the form.

    A subclass names its services in ``service_create`` / ``service_update`` / ``service_delete``. The owning
    App of an object is fixed once it exists (it is shown, not editable): an object never moves between tenants.
    Secret fields render empty and an empty one keeps the stored value.
    """

    secret_fields: tuple[str, ...] = ()
    readonly_once_created: tuple[str, ...] = ("app",)

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(self, request: HttpRequest, obj: Any, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_delete(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return fields + [f for f in self.readonly_once_created if f not in fields] if obj is not None else fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        secrets = {name: forms.PasswordInput(render_value=False) for name in self.secret_fields}
        kwargs["widgets"] = {**kwargs.get("widgets", {}), **secrets}
        base = kwargs.get("form") or self.form  # type: ignore[attr-defined]
        kwargs["form"] = type("ServiceModelForm", (ServiceForm, base), {})
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        for name in self.secret_fields:
            if name in form.base_fields:
                form.base_fields[name].required = False
                form.base_fields[name].help_text = SECRET_HELP
        form.service_admin = self
        form.service_request = request
        return form

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing left to do: the service saved the object when the form validated."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            self.service_delete(request, obj)
        except ConflictError as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ApiKeyInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ApiKey
    fields = ["prefix", "description", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "description", "created", "last_used_at", "revoked_at"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(App)
class AppAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Tenants. Deleting one would delete its recordings: switch it off instead (``is_active``)."""

    list_display = ["name", "id", "is_active", "created"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    inlines = [ApiKeyInline]
    actions = ["make_api_key"]
    readonly_once_created = ()

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> App:
        app, raw_key = app_create(name=data["name"])
        if not data.get("is_active", True):
            app_update(app=app, is_active=False)
        messages.warning(request, f"First key of {app} (id {app.pk}), shown once: {raw_key}")
        return app

    def service_update(self, request: HttpRequest, obj: App, data: dict[str, Any]) -> App:
        return app_update(app=obj, **data)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Create a new API key (shown once)")
    def make_api_key(self, request: HttpRequest, queryset: QuerySet[App]) -> None:
        for app in queryset:
            _, raw_key = api_key_create(app=app, description=f"made in the console by {request.user}")
            self.message_user(request, f"New key for {app} (id {app.pk}), shown once: {raw_key}", messages.WARNING)


@admin.register(ApiKey)
class ApiKeyAdmin(ServiceAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Keys are made by the App page's action (shown once) and revoked here; only the description is edited."""

    list_display = ["prefix", "app", "description", "created", "last_used_at", "revoked_at"]
    list_filter = ["app", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "description", "app__name"]
    fields = ["app", "prefix", "description", "created", "last_used_at", "revoked_at"]
    readonly_fields = ["app", "prefix", "created", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def service_update(self, request: HttpRequest, obj: ApiKey, data: dict[str, Any]) -> ApiKey:
        return api_key_update(key=obj, description=data.get("description", obj.description))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).")
