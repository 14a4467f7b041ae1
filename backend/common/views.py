"""Liveness and readiness for load balancers and humans, and the web app's fallback."""

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


def _database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


class LivenessView(APIView):
    """The process is up and answering (restart it if not)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(responses={200: dict}, summary="Liveness")
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class HealthView(APIView):
    """Readiness: the database and the model provider can be reached (send traffic here if so)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer):
        status = serializers.CharField()
        checks = serializers.DictField(child=serializers.CharField())
        database = serializers.CharField()
        provider = serializers.CharField()
        model = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer, 503: OutputSerializer}, summary="Readiness")
    def get(self, request: Request) -> Response:
        provider = get_provider()
        checks = {
            "database": "ok" if _database_ready() else "unavailable",
            "provider": "ok" if provider.ready() else "unavailable",
        }
        ready = all(value == "ok" for value in checks.values())
        body = {
            "status": "ok" if ready else "unavailable",
            "checks": checks,
            "database": checks["database"],
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
