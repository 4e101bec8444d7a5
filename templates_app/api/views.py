from __future__ import annotations

from liverecord.api.viewsets import Services, TenantModelViewSet
from templates_app.api.serializers import RecordTemplateSerializer
from templates_app.filtersets import RecordTemplateFilterSet
from templates_app.models import RecordTemplate
from templates_app.services import template_create, template_delete, template_update


class RecordTemplateViewSet(TenantModelViewSet):
    """Recording templates: formats, file length, retention, HLS reconnect window."""

    queryset = RecordTemplate.objects.all()
    serializer_class = RecordTemplateSerializer
    filterset_class = RecordTemplateFilterSet
    services = Services(create=template_create, update=template_update, delete=template_delete)
