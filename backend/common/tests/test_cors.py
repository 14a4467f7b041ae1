"""The API answers browsers only from the configured web-app origins."""

from __future__ import annotations

import pytest

PAGES = "https://haru.github.io"


@pytest.fixture
def cors(settings):
    settings.CORS_ALLOWED_ORIGINS = [PAGES]


@pytest.mark.django_db
def test_the_configured_origin_may_call_the_api_with_a_token(anon, cors):
    preflight = anon.options(
        "/api/conversations",
        HTTP_ORIGIN=PAGES,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert preflight["Access-Control-Allow-Origin"] == PAGES
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    response = anon.get("/api/health", HTTP_ORIGIN=PAGES)
    assert response["Access-Control-Allow-Origin"] == PAGES
    assert "X-RateLimit-Remaining" in response["Access-Control-Expose-Headers"]


@pytest.mark.django_db
def test_any_other_origin_is_not_allowed(anon, cors):
    response = anon.get("/api/health", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_the_web_app_may_resume_a_stream_from_another_origin(anon, cors):
    preflight = anon.options(
        "/api/conversations/1/messages/2/stream",
        HTTP_ORIGIN=PAGES,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, last-event-id",
    )
    assert preflight["Access-Control-Allow-Origin"] == PAGES
    assert "last-event-id" in preflight["Access-Control-Allow-Headers"]
