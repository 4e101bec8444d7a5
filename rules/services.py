"""Writes on push domains, storage targets and recording rules."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from liverecord.errors import ConflictError
from liverecord.models import App
from rules.choices import StorageProvider
from rules.models import Domain, RecordRule, StorageTarget

M = TypeVar("M", bound=models.Model)


def _save(obj: M, *, conflict: str, field: str | None) -> M:
    """Validate and save; a uniqueness race the earlier checks missed still answers 409."""
    obj.full_clean(exclude=["app"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ConflictError(conflict, field=field) from exc
    return obj


def domain_name_normalize(name: str) -> str:
    """The one spelling of a push domain name that every path stores and compares (SPEC.md: case-insensitive).

    The API, the admin, record tasks, the ingest hooks, rule matching and the list filters all pass names
    through here, so ``Push.Example.com`` typed anywhere is the ``push.example.com`` a push reports.
    """
    return name.strip().lower().rstrip(".")


def _set(obj: models.Model, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        setattr(obj, key, value)


# Storage targets


def _check_storage_target(target: StorageTarget) -> None:
    if StorageTarget.objects.filter(app=target.app, name=target.name).exclude(pk=target.pk).exists():
        raise ConflictError(f"a storage target named {target.name!r} already exists", field="name")
    errors: dict[str, str] = {}
    if target.provider in (StorageProvider.S3, StorageProvider.COS) and not target.bucket:
        errors["bucket"] = f"is required for provider {target.provider}"
    if target.provider == StorageProvider.COS and not target.region:
        errors["region"] = "is required for provider cos"
    if errors:
        raise ValidationError(errors)


def storage_target_create(*, app: App, **fields: Any) -> StorageTarget:
    target = StorageTarget(app=app)
    _set(target, fields)
    _check_storage_target(target)
    return _save(target, conflict="a storage target with this name already exists", field="name")


def storage_target_update(*, instance: StorageTarget, partial: bool = True, **fields: Any) -> StorageTarget:
    _set(instance, fields)
    _check_storage_target(instance)
    return _save(instance, conflict="a storage target with this name already exists", field="name")


def storage_target_delete(*, instance: StorageTarget) -> None:
    used_by = list(instance.domains.values_list("name", flat=True)[:5])
    if used_by:
        raise ConflictError(f"storage target {instance.name!r} is used by domain(s) {', '.join(used_by)}")
    instance.delete()


# Push domains


def _check_domain(domain: Domain) -> None:
    taken = Domain.objects.filter(name=domain.name).exclude(pk=domain.pk)
    if taken.exists():
        raise ConflictError(f"domain {domain.name!r} is already registered", field="name")
    if domain.push_auth_enabled and not domain.push_auth_key:
        raise ValidationError({"push_auth_key": "is required when push_auth_enabled is true"})
    if domain.storage is not None and domain.storage.app_id != domain.app_id:
        raise ValidationError({"storage": "does not exist in this app"})


@transaction.atomic
def domain_create(*, app: App, name: str, **fields: Any) -> Domain:
    domain = Domain(app=app, name=domain_name_normalize(name))
    _set(domain, fields)
    _check_domain(domain)
    return _save(domain, conflict=f"domain {domain.name!r} is already registered", field="name")


@transaction.atomic
def domain_update(*, instance: Domain, partial: bool = True, **fields: Any) -> Domain:
    """Change a domain; renaming it renames it in its rules too, so they keep matching."""
    old_name = instance.name
    if "name" in fields:
        fields["name"] = domain_name_normalize(fields["name"])
    _set(instance, fields)
    _check_domain(instance)
    domain = _save(instance, conflict=f"domain {instance.name!r} is already registered", field="name")
    if domain.name != old_name:
        RecordRule.objects.filter(app=domain.app, domain=old_name).update(domain=domain.name)
    return domain


def domain_delete(*, instance: Domain) -> None:
    used_by = RecordRule.objects.filter(app=instance.app, domain=instance.name).count()
    if used_by:
        raise ConflictError(f"domain {instance.name!r} is used by {used_by} rule(s); delete them first")
    instance.delete()


# Recording rules


def _check_rule(rule: RecordRule) -> None:
    if rule.domain and not Domain.objects.filter(app=rule.app, name=rule.domain).exists():
        raise ValidationError({"domain": f"{rule.domain!r} is not a push domain of this app"})
    if rule.template.app_id != rule.app_id:
        raise ValidationError({"template": "does not exist in this app"})
    duplicate = RecordRule.objects.filter(
        app=rule.app, domain=rule.domain, app_name=rule.app_name, stream_name=rule.stream_name
    ).exclude(pk=rule.pk)
    if duplicate.exists():
        raise ConflictError("a rule for this domain, app name and stream name already exists")


def rule_create(*, app: App, template: Any, domain: str = "", app_name: str = "", stream_name: str = "") -> RecordRule:
    rule = RecordRule(
        app=app, template=template, domain=domain_name_normalize(domain), app_name=app_name, stream_name=stream_name
    )
    _check_rule(rule)
    return _save(rule, conflict="a rule for this domain, app name and stream name already exists", field=None)


def rule_update(*, instance: RecordRule, partial: bool = True, **fields: Any) -> RecordRule:
    if "domain" in fields:
        fields["domain"] = domain_name_normalize(fields["domain"])
    _set(instance, fields)
    _check_rule(instance)
    return _save(instance, conflict="a rule for this domain, app name and stream name already exists", field=None)


def rule_delete(*, instance: RecordRule) -> None:
    instance.delete()
