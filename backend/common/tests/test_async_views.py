"""AsyncAPIView renders on the loop and hands back a plain response with everything DRF's had."""

from __future__ import annotations

import asyncio

from django.test import RequestFactory
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from common.async_views import AsyncAPIView


class CookieView(AsyncAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    async def get(self, request):
        response = Response({"ok": True}, headers={"X-Seen": "yes"})
        response.set_cookie("remembered", "1", httponly=True, samesite="Lax")
        return response


def test_a_cookie_an_async_view_sets_reaches_the_client_with_its_headers(db):
    response = asyncio.run(CookieView.as_view()(RequestFactory().get("/")))
    assert response.status_code == 200 and response["X-Seen"] == "yes"
    assert response.cookies["remembered"].value == "1" and response.cookies["remembered"]["httponly"]
