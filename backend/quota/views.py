from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from quota.serializers import QuotaOutputSerializer, quota_output
from quota.services import quota_status


class QuotaView(APIView):
    @extend_schema(responses={200: QuotaOutputSerializer}, summary="Today's allowance of model requests")
    def get(self, request: Request) -> Response:
        current = quota_status(user=request.user)
        return Response(quota_output(current), headers=current.headers())
