from __future__ import annotations

from rest_framework.routers import DefaultRouter

from recordings.api.snapshots import SnapshotViewSet
from recordings.api.views import CallbackDeliveryViewSet, PublishSessionViewSet, RecordFileViewSet, RecordTaskViewSet

app_name = "recordings"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("files", RecordFileViewSet, basename="recordfile")
router.register("sessions", PublishSessionViewSet, basename="publishsession")
router.register("record-tasks", RecordTaskViewSet, basename="recordtask")
router.register("snapshots", SnapshotViewSet, basename="snapshot")
router.register("callback-deliveries", CallbackDeliveryViewSet, basename="callbackdelivery")
urlpatterns = router.urls
