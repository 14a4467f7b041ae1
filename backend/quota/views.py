from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from quota.services import quota_status


class QuotaView(APIView):
    class OutputSerializer(serializers.Serializer):
        limit = serializers.IntegerField()
        used = serializers.IntegerField()
        remaining = serializers.IntegerField()
        resets_at = serializers.DateTimeField()
        time_zone = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer}, summary="Today's allowance of model requests")
    def get(self, request: Request) -> Response:
        current = quota_status(user=request.user)
        body = {
            "limit": current.limit,
            "used": current.used,
            "remaining": current.remaining,
            "resets_at": current.resets_at.isoformat(),  # in the quota's own time zone
            "time_zone": str(current.resets_at.tzinfo),
        }
        return Response(body, headers=current.headers())
