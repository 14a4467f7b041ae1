"""Liveness and readiness for load balancers and humans."""

from __future__ import annotations

from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from llm.providers import get_provider


class HealthView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        database = serializers.CharField()
        provider = serializers.CharField()
        model = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer, 503: OutputSerializer}, summary="Liveness and readiness")
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            database = "ok"
        except DatabaseError:
            database = "unavailable"
        provider = get_provider()
        ready = database == "ok"
        body = {
            "status": "ok" if ready else "unavailable",
            "database": database,
            "provider": provider.name,
            "model": provider.default_model(),
        }
        return Response(body, status=200 if ready else 503)
