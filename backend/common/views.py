"""Liveness and readiness for load balancers and humans."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
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


def web_app_missing(request: HttpRequest) -> JsonResponse:
    """Answers / when the web app has not been built (WhiteNoise serves it when it has)."""
    return JsonResponse(
        {
            "detail": "The web app is not built yet: run `make run`, or `npm ci && npm run build` in frontend/. "
            "The API is at /api/ and its docs at /api/docs.",
            "code": "web_app_not_built",
        },
        status=404,
    )
