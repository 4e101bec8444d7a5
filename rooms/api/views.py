from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from liverecord.api.viewsets import TenantReadOnlyViewSet
from liverecord.errors import ConflictError
from rooms.api.serializers import CloudRecordingCreateSerializer, CloudRecordingSerializer, SubscriptionSerializer
from rooms.filtersets import CloudRecordingFilterSet
from rooms.models import CloudRecording
from rooms.services import cloud_recording_create, cloud_recording_stop, cloud_recording_update_subscription


class CloudRecordingViewSet(mixins.CreateModelMixin, TenantReadOnlyViewSet):
    """Cloud recordings of rooms: in single mode every subscribed stream of the room gets its own files."""

    queryset = CloudRecording.objects.select_related("domain").prefetch_related("streams__task")
    serializer_class = CloudRecordingSerializer
    filterset_class = CloudRecordingFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def _answer(self, recording: CloudRecording, status: int = 200) -> Response:
        recording = self.get_queryset().get(pk=recording.pk)
        return Response(CloudRecordingSerializer(recording, context=self.get_serializer_context()).data, status=status)

    @extend_schema(request=CloudRecordingCreateSerializer, responses={201: CloudRecordingSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        given = CloudRecordingCreateSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        return self._answer(cloud_recording_create(app=self.tenant, **given.validated_data), status=201)

    @extend_schema(request=None, responses={200: CloudRecordingSerializer})
    @action(detail=True, methods=["post"])
    def stop(self, request: Request, id: str | None = None) -> Response:
        """End the recording; its streams' last files are made. 409 ``already_stopped`` when repeated."""
        return self._answer(cloud_recording_stop(recording=self.get_object()))

    @extend_schema(request=SubscriptionSerializer, responses={200: CloudRecordingSerializer})
    @action(detail=True, methods=["post"], url_path="update-subscription")
    def update_subscription(self, request: Request, id: str | None = None) -> Response:
        """New subscription lists (a medium left out keeps its lists), for live and later streams."""
        recording = self.get_object()
        given = SubscriptionSerializer(data=request.data, context=self.get_serializer_context())
        given.is_valid(raise_exception=True)
        lists = {name: given.validated_data.get(name) for name in request.data if name in given.fields}
        return self._answer(cloud_recording_update_subscription(recording=recording, lists=lists))

    @extend_schema(request=None, responses={200: CloudRecordingSerializer})
    @action(detail=True, methods=["post"], url_path="update-layout")
    def update_layout(self, request: Request, id: str | None = None) -> Response:
        """A new layout of a mixed recording (409 for single ones)."""
        recording = self.get_object()
        raise ConflictError(f"update-layout is only for mixed recordings; this one is {recording.mode}")
