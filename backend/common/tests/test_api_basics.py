"""OpenAPI, health, and JSON errors for everything, even paths that don't exist."""

from __future__ import annotations

import pytest

CONTRACT_PATHS = [
    "/api/auth/signup",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/logout",
    "/api/auth/me",
    "/api/assistants",
    "/api/conversations",
    "/api/conversations/{conversation_id}",
    "/api/conversations/{conversation_id}/messages",
    "/api/conversations/{conversation_id}/completions",
    "/api/quota",
    "/api/health",
]


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_contract(anon):
    response = anon.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert set(CONTRACT_PATHS) <= set(schema["paths"])


def openapi_paths(client) -> dict:
    return client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "json_status"),
    [("/api/conversations/{conversation_id}/messages", "201"), ("/v1/chat/completions", "200")],
)
def test_a_streamed_answer_is_documented_as_text_event_stream(anon, path, json_status):
    """`"stream": true` answers 200 text/event-stream, which the schema did not say (schemathesis' content check)."""
    responses = openapi_paths(anon)[path]["post"]["responses"]
    assert "text/event-stream" in responses["200"]["content"]
    assert "application/json" in responses[json_status]["content"]


@pytest.mark.django_db
def test_the_conversation_list_documents_its_pagination(anon):
    operation = openapi_paths(anon)["/api/conversations"]["get"]
    assert {"search", "cursor", "page_size"} <= {parameter["name"] for parameter in operation["parameters"]}
    assert "404" in operation["responses"]  # an invalid cursor


@pytest.mark.django_db
def test_the_browsable_docs_are_served_without_a_cdn(anon):
    response = anon.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and "cdn.jsdelivr" not in html


@pytest.mark.django_db
def test_health_reports_database_and_provider(anon, upstream):
    response = anon.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "provider": "ok"},
        "database": "ok",
        "provider": "openai_compat",
        "model": "fake-model",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/no/such/page", 404), ("get", "/api/nope", 404), ("put", "/api/auth/login", 405)],
)
def test_errors_are_json_with_detail_and_code(anon, method, path, status):
    response = getattr(anon, method)(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) >= {"detail", "code"}


@pytest.mark.django_db
def test_an_unsupported_media_type_is_415_json(api):
    response = api.generic("POST", "/api/conversations", b"title=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_the_schema_is_valid_openapi_with_no_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")
