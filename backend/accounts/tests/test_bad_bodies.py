"""Bad request bodies are 4xx JSON, never a 500, on every account endpoint."""

from __future__ import annotations

import json

import pytest
from django.conf import settings

from accounts.models import User

WRITE_ENDPOINTS = [
    ("POST", "/api/auth/signup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/logout"),
    ("PATCH", "/api/auth/me"),
]

pytestmark = pytest.mark.django_db


def send_raw(api, method: str, url: str, body: bytes):
    return api.generic(method, url, data=body, content_type="application/json")


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize(("method", "url"), WRITE_ENDPOINTS)
@pytest.mark.parametrize("body", [b'{"email": ', b"{'email': 'x'}", b"\xff\xfe\x00", b"nul"])
def test_malformed_json_is_400_parse_error(api, method, url, body):
    assert_json_error(send_raw(api, method, url, body), 400, "parse_error")


@pytest.mark.parametrize(("method", "url"), WRITE_ENDPOINTS)
@pytest.mark.parametrize("body", [[], ["email", "password"], "a string", 42, None])
def test_json_that_is_not_an_object_is_400(api, method, url, body):
    assert_json_error(send_raw(api, method, url, json.dumps(body).encode()), 400)


@pytest.mark.parametrize(("method", "url"), WRITE_ENDPOINTS)
def test_a_body_over_the_size_limit_is_413_request_too_large(api, method, url):
    padding = "x" * settings.HARUCHAT_MAX_BODY_BYTES
    body = json.dumps({"email": "big@example.com", "password": "pw", "nickname": padding}).encode()

    assert_json_error(send_raw(api, method, url, body), 413, "request_too_large")
    assert not User.objects.filter(email="big@example.com").exists()


def test_a_body_just_under_the_size_limit_is_read(anon, settings):
    settings.HARUCHAT_MAX_BODY_BYTES = 200
    body = json.dumps({"email": "nobody@example.com", "password": "x" * 100}).encode()
    assert len(body) <= 200

    assert_json_error(send_raw(anon, "POST", "/api/auth/login", body), 401, "invalid_credentials")


def test_a_form_encoded_body_is_415(anon):
    response = anon.generic(
        "POST", "/api/auth/login", "email=a%40b.c&password=x", content_type="application/x-www-form-urlencoded"
    )

    assert_json_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", 12), ("email", {"a": 1}), ("password", ["x"]), ("nickname", None), ("born_year", [1990])],
)
def test_signup_with_a_field_of_the_wrong_type_is_400(anon, field, value):
    body = {"email": "new@example.com", "password": "correct horse battery staple", "nickname": "n", field: value}

    assert field in assert_json_error(anon.post("/api/auth/signup", body, format="json"), 400)["errors"]
