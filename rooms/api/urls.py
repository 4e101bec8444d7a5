from __future__ import annotations

from rest_framework.routers import DefaultRouter

from rooms.api.views import CloudRecordingViewSet

app_name = "rooms"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("cloud-recordings", CloudRecordingViewSet, basename="cloudrecording")
urlpatterns = router.urls
