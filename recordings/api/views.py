from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from liverecord.api.viewsets import TenantReadOnlyViewSet
from recordings.api.serializers import CallbackDeliverySerializer, PublishSessionSerializer, RecordFileSerializer
from recordings.api.task_serializers import RecordTaskCreateSerializer, RecordTaskSerializer
from recordings.choices import SNAPSHOT_FORMAT
from recordings.filtersets import (
    CallbackDeliveryFilterSet,
    PublishSessionFilterSet,
    RecordFileFilterSet,
    RecordTaskFilterSet,
)
from recordings.models import CallbackDelivery, PublishSession, RecordFile, RecordTask
from recordings.services import (
    callback_redeliver,
    record_file_delete,
    record_file_retry_upload,
    task_create_highlight,
    task_create_scheduled,
    task_delete,
    task_stop,
)


class RecordFileViewSet(mixins.DestroyModelMixin, TenantReadOnlyViewSet):
    """Recorded files, with download URLs; deleting one removes the stored object too."""

    queryset = RecordFile.objects.exclude(format=SNAPSHOT_FORMAT).select_related("task")  # /snapshots/ has them
    serializer_class = RecordFileSerializer
    filterset_class = RecordFileFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def perform_destroy(self, instance: RecordFile) -> None:
        record_file_delete(file=instance)

    @extend_schema(request=None, responses={200: RecordFileSerializer})
    @action(detail=True, methods=["post"], url_path="retry-upload")
    def retry_upload(self, request: Request, id: str | None = None) -> Response:
        """Upload a file in backup (or failed, while its local copy exists) again now."""
        file = record_file_retry_upload(file=self.get_object())
        return Response(RecordFileSerializer(file, context=self.get_serializer_context()).data)


class PublishSessionViewSet(TenantReadOnlyViewSet):
    """One row per push: live now or ended, with what the recorder measured."""

    queryset = PublishSession.objects.prefetch_related("record_tasks")
    serializer_class = PublishSessionSerializer
    filterset_class = PublishSessionFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"


class RecordTaskViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, TenantReadOnlyViewSet):
    """Every recording: rule (a push matched a rule), scheduled (a window) or highlight (from now or the past)."""

    queryset = RecordTask.objects.select_related("session")
    serializer_class = RecordTaskSerializer
    filterset_class = RecordTaskFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return RecordTaskCreateSerializer if self.action == "create" else RecordTaskSerializer

    @extend_schema(request=RecordTaskCreateSerializer, responses={201: RecordTaskSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = RecordTaskCreateSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        if data.pop("highlight"):
            data.pop("start_time", None)
            task = task_create_highlight(app=self.tenant, **data)
        else:
            data.pop("lookback_seconds", None)
            task = task_create_scheduled(app=self.tenant, **data)
        return Response(RecordTaskSerializer(task, context=self.get_serializer_context()).data, status=201)

    def perform_destroy(self, instance: RecordTask) -> None:
        task_delete(task=instance)

    @extend_schema(request=None, responses={200: RecordTaskSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, id: str | None = None) -> Response:
        """End the task now; its last files are made."""
        task = task_stop(task=self.get_object())
        return Response(RecordTaskSerializer(task, context=self.get_serializer_context()).data)


class CallbackDeliveryViewSet(TenantReadOnlyViewSet):
    """Every callback sent to your callback URL, with each attempt as the receiver answered it."""

    queryset = CallbackDelivery.objects.select_related("file", "task").prefetch_related("attempt_log")
    serializer_class = CallbackDeliverySerializer
    filterset_class = CallbackDeliveryFilterSet
    lookup_field = "event_id"
    lookup_url_kwarg = "id"

    @extend_schema(request=None, responses={200: CallbackDeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, id: str | None = None) -> Response:
        """Send the event again, with a fresh budget of attempts."""
        delivery = callback_redeliver(delivery=self.get_object())
        return Response(CallbackDeliverySerializer(delivery, context=self.get_serializer_context()).data)
