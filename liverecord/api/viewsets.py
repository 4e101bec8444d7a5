"""The base of every tenant-scoped API viewset (NetBox-style: viewsets stay thin).

A viewset sets ``queryset``, ``serializer_class``, ``filterset_class`` and ``services``; writes go through
the services, reads are limited to the caller's App, so another App's object answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from liverecord.api.authentication import ApiClient
from liverecord.models import App


@dataclass(frozen=True)
class Services:
    """The service functions a viewset's writes call: ``create(app=, **data)``, ``update(instance=, **data)``,
    ``delete(instance=)``."""

    create: Callable[..., models.Model]
    update: Callable[..., models.Model]
    delete: Callable[..., None]


class TenantViewSetMixin:
    request: Any

    @property
    def tenant(self) -> App:
        user = self.request.user
        assert isinstance(user, ApiClient)
        return user.app

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = super().get_queryset()  # type: ignore[misc]
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(app=self.tenant)


class TenantModelViewSet(TenantViewSetMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    services: Services

    def perform_create(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = self.services.create(app=self.tenant, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer[Any]) -> None:
        serializer.instance = self.services.update(
            instance=serializer.instance, partial=serializer.partial, **serializer.validated_data
        )

    def perform_destroy(self, instance: models.Model) -> None:
        self.services.delete(instance=instance)


class TenantReadOnlyViewSet(TenantViewSetMixin, viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    pass
