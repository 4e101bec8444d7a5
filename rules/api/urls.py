from __future__ import annotations

from rest_framework.routers import DefaultRouter

from rules.api.views import DomainViewSet, RecordRuleViewSet, StorageTargetViewSet

app_name = "rules"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("domains", DomainViewSet, basename="domain")
router.register("storage-targets", StorageTargetViewSet, basename="storagetarget")
router.register("record-rules", RecordRuleViewSet, basename="recordrule")
urlpatterns = router.urls
