from __future__ import annotations

from rest_framework.routers import DefaultRouter

from templates_app.api.views import RecordTemplateViewSet

app_name = "templates_app"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("record-templates", RecordTemplateViewSet, basename="recordtemplate")
urlpatterns = router.urls
