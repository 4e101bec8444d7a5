from __future__ import annotations

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from liverecord.api.viewsets import Services, TenantModelViewSet
from rules.api.serializers import (
    DomainSerializer,
    RecordRuleSerializer,
    RuleMatchQuerySerializer,
    RuleMatchSerializer,
    StorageTargetSerializer,
)
from rules.filtersets import DomainFilterSet, RecordRuleFilterSet, StorageTargetFilterSet
from rules.models import Domain, RecordRule, StorageTarget
from rules.selectors import rule_match, rule_priority
from rules.services import (
    domain_create,
    domain_delete,
    domain_update,
    rule_create,
    rule_delete,
    rule_update,
    storage_target_create,
    storage_target_delete,
    storage_target_update,
)


class DomainViewSet(TenantModelViewSet):
    """Push domains: push auth keys, callback target, storage target, pull URL, look-back."""

    queryset = Domain.objects.select_related("storage")
    serializer_class = DomainSerializer
    filterset_class = DomainFilterSet
    services = Services(create=domain_create, update=domain_update, delete=domain_delete)


class StorageTargetViewSet(TenantModelViewSet):
    """Where files go: local disk, S3-compatible storage or Tencent COS."""

    queryset = StorageTarget.objects.all()
    serializer_class = StorageTargetSerializer
    filterset_class = StorageTargetFilterSet
    services = Services(create=storage_target_create, update=storage_target_update, delete=storage_target_delete)


class RecordRuleViewSet(TenantModelViewSet):
    """Rules bind a template to pushes; the most specific matching rule wins."""

    queryset = RecordRule.objects.select_related("template")
    serializer_class = RecordRuleSerializer
    filterset_class = RecordRuleFilterSet
    services = Services(create=rule_create, update=rule_update, delete=rule_delete)

    @extend_schema(
        parameters=[RuleMatchQuerySerializer],
        responses={
            200: OpenApiResponse(RuleMatchSerializer, description="The winning rule, or null when none matches.")
        },
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def match(self, request: Request) -> Response | JsonResponse:
        """Which rule wins for a push of ``domain``/``app_name``/``stream_name``."""
        query = RuleMatchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rule = rule_match(app=self.tenant, **query.validated_data)
        if rule is None:
            return JsonResponse(None, safe=False)
        return Response(
            RuleMatchSerializer(
                {"rule": rule, "level": rule_priority(rule), "template": rule.template},
                context=self.get_serializer_context(),
            ).data
        )
