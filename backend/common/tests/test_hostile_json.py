"""JSON that json would choke on or read ambiguously is a 400 `parse_error` on every route, never a 5xx:
nesting past HARUCHAT_MAX_JSON_DEPTH (100,000 `[` was a RecursionError, a 500), numbers out of range,
NaN and the infinities, duplicate keys, bytes that are not UTF-8. A UTF-8 byte order mark is ignored."""

from __future__ import annotations

import io
import json
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from chat.tests.helpers import start_conversation
from common.parsers import LimitedJSONParser, _deeper_than
from conftest import PASSWORD, make_member
from gateway.services import api_key_create

BOM = b"\xef\xbb\xbf"
ISSUE_BODY = b"[" * 100_000  # the body from issue 22


def nested(depth: int, inner: Any = 1) -> Any:
    """`inner` inside `depth` nested lists."""
    for _ in range(depth):
        inner = [inner]
    return inner


def depth(value: Any) -> int:
    """How deep lists and objects nest in `value` (`[]` is 1)."""
    if isinstance(value, dict):
        value = list(value.values())
    return 1 + max(map(depth, value), default=0) if isinstance(value, list) else 0


def raw(text: str) -> bytes:
    return text.encode()


LIMIT = django_settings.HARUCHAT_MAX_JSON_DEPTH
TOO_DEEP = f"nested more than {LIMIT} levels deep"

# (id, body, a phrase the `detail` must contain)
HOSTILE = [
    ("issue-100000-open-brackets", ISSUE_BODY, TOO_DEEP),
    ("100000-balanced-brackets", b"[" * 100_000 + b"]" * 100_000, TOO_DEEP),
    ("arrays-one-past-the-limit", raw(json.dumps(nested(LIMIT + 1))), TOO_DEEP),
    ("objects-one-past-the-limit", raw('{"a":' * (LIMIT + 1) + "1" + "}" * (LIMIT + 1)), TOO_DEEP),
    ("arrays-500-deep", raw(json.dumps(nested(500))), TOO_DEEP),
    ("deep-inside-a-valid-body", raw(json.dumps({"email": "a@b.c", "password": "x", "x": nested(LIMIT)})), TOO_DEEP),
    ("float-overflow", b'{"temperature": 1e999}', "too large to represent: '1e999'"),
    ("negative-float-overflow", b'{"temperature": -1e999}', "too large to represent: '-1e999'"),
    ("float-overflow-without-exponent", raw('{"x": 1' + "0" * 400 + ".5}"), "too large to represent"),
    ("integer-past-the-int-conversion-limit", raw('{"max_tokens": ' + "9" * 5000 + "}"), "integer longer than"),
    ("nan", b'{"temperature": NaN}', "NaN, which is not a JSON number"),
    ("infinity", b'{"temperature": Infinity}', "Infinity, which is not a JSON number"),
    ("negative-infinity", b'{"x": [-Infinity]}', "-Infinity, which is not a JSON number"),
    ("duplicate-key", b'{"email": "a@example.com", "email": "b@example.com"}', "key 'email' twice"),
    ("duplicate-key-nested", b'{"x": [{"role": "user", "role": "system"}]}', "key 'role' twice"),
    ("invalid-utf8-start-byte", b'{"email": "\xff"}', "not valid UTF-8"),
    ("invalid-utf8-overlong", b'{"email": "\xc0\xaf"}', "not valid UTF-8"),
    ("invalid-utf8-encoded-surrogate", b'{"email": "\xed\xa0\x80"}', "not valid UTF-8"),
    ("invalid-utf8-truncated", b'{"email": "\xe2\x82', "not valid UTF-8"),
    ("two-byte-order-marks", BOM + BOM + b"{}", "JSON parse error"),
]


# /v1 authenticates and parses in common.db's threads, on their own connections: its key must be committed.
V1 = pytest.param("v1", marks=pytest.mark.django_db(transaction=True))
ROUTES = ["login", "chat", V1]


@pytest.fixture
def routes(request, anon, api, member) -> dict[str, tuple[APIClient, str, dict[str, str]]]:
    """One route of each kind: the unauthenticated login, a chat route, the /v1 gateway with an API key."""
    chosen = {
        "login": (anon, "/api/auth/login", {}),
        "chat": (api, "/api/conversations", {}),
    }
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and callspec.params.get("route") == "v1":
        request.getfixturevalue("builtin_assistants")
        secret = api_key_create(user=member, name="hostile")[1]
        chosen["v1"] = (anon, "/v1/chat/completions", {"HTTP_AUTHORIZATION": f"Bearer {secret}"})
    return chosen


def post(routes, route: str, body: bytes, content_type: str = "application/json"):
    client, url, headers = routes[route]
    return client.generic("POST", url, data=body, content_type=content_type, **headers)


def assert_parse_error(response, route: str) -> str:
    """The 400 `parse_error` in the route's shape (OpenAI's too on /v1); its human-readable detail."""
    assert response.status_code == 400, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "parse_error", body
    assert isinstance(body["detail"], str) and body["detail"]
    if route == "v1":
        assert body["error"]["code"] == "parse_error"
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["message"] == body["detail"]
    return body["detail"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("body", "detail"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_hostile_json_is_a_400_parse_error_with_a_clear_detail(routes, upstream, route, body, detail):
    assert detail in assert_parse_error(post(routes, route, body), route)
    assert upstream.exchanges == []  # nothing reached the model


def valid_body(route: str, extra: Any) -> dict[str, Any]:
    """A body the route accepts, with `extra` under a key it ignores (the chat route, login) or passes
    through to the upstream (/v1)."""
    if route == "v1":
        return {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], "vendor_extension": extra}
    if route == "login":
        return {"email": "haru@example.com", "password": PASSWORD, "extra": extra}
    return {"title": "deep", "extra": extra}


SUCCESS = {"login": 200, "chat": 201, "v1": 200}


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_nested_exactly_to_the_limit_still_works(routes, upstream, route):
    body = valid_body(route, nested(LIMIT - 1, "end"))  # the body's own object is the first level
    assert depth(body) == LIMIT

    response = post(routes, route, json.dumps(body).encode())

    assert response.status_code == SUCCESS[route], response.content[:500]


@pytest.mark.parametrize("route", ROUTES)
def test_a_utf8_byte_order_mark_at_the_start_is_ignored(routes, upstream, route):
    response = post(routes, route, BOM + json.dumps(valid_body(route, None)).encode())

    assert response.status_code == SUCCESS[route], response.content[:500]


@pytest.mark.parametrize("route", ROUTES)
def test_brackets_inside_strings_are_not_nesting(routes, upstream, route):
    response = post(routes, route, json.dumps(valid_body(route, "[{" * 5000)).encode())

    assert response.status_code == SUCCESS[route], response.content[:500]


def test_the_depth_limit_is_the_setting_of_the_moment(routes, settings):
    settings.HARUCHAT_MAX_JSON_DEPTH = 3
    at_the_limit = {"email": "haru@example.com", "password": PASSWORD, "x": [[1]]}
    assert post(routes, "login", json.dumps(at_the_limit).encode()).status_code == 200

    one_deeper = {**at_the_limit, "x": [[[1]]]}
    detail = assert_parse_error(post(routes, "login", json.dumps(one_deeper).encode()), "login")
    assert detail == "The JSON body is nested more than 3 levels deep."


def test_numbers_in_range_are_parsed_as_before():
    longest = "9" * (sys.get_int_max_str_digits() or 4300)
    body = f"[1e-999, 1.5e300, -0.0, 0.1, 12345678901234567890, {longest}]".encode()

    parsed = LimitedJSONParser().parse(io.BytesIO(body))

    assert parsed == [0.0, 1.5e300, -0.0, 0.1, 12345678901234567890, int(longest)]


def test_the_depth_walk_needs_no_recursion():
    deep = nested(100_000)

    assert not _deeper_than(deep, 100_000)
    assert _deeper_than(deep, 99_999)


@pytest.mark.parametrize("route", ROUTES)
def test_an_oversized_body_is_still_413_before_any_json_rule(routes, route):
    body = b"[" * (django_settings.HARUCHAT_MAX_BODY_BYTES + 1)

    response = post(routes, route, body)

    assert response.status_code == 413, response.content[:500]
    assert response.json()["code"] == "request_too_large"


def test_invalid_text_in_a_declared_charset_is_a_parse_error_naming_it(routes):
    odd_length = '{"email": "a"}'.encode("utf-16-le") + b"\x00"  # UTF-16 comes in pairs of bytes

    response = post(routes, "login", odd_length, content_type="application/json; charset=utf-16-le")

    assert "not valid utf-16-le" in assert_parse_error(response, "login")


def test_a_duplicate_key_is_named_even_when_long(routes):
    key = "k" * 1000
    body = json.dumps({"a": 1}).replace('"a": 1', f'"{key}": 1, "{key}": 2').encode()

    detail = assert_parse_error(post(routes, "login", body), "login")

    assert len(detail) < 200 and "'kkkk" in detail


def post_over_http(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("route", ["/api/auth/login", "/v1/chat/completions"])
def test_the_issues_100000_brackets_over_http_are_a_400_not_a_500(live_uvicorn, upstream, route):
    headers = {}
    if route.startswith("/v1"):
        headers["Authorization"] = f"Bearer {api_key_create(user=make_member(), name='issue')[1]}"

    status, body = post_over_http(f"{live_uvicorn.url}{route}", ISSUE_BODY, headers)

    assert status == 400, body
    assert body["code"] == "parse_error"
    assert body["detail"] == f"The JSON body is nested more than {LIMIT} levels deep."
    if route.startswith("/v1"):
        assert body["error"]["code"] == "parse_error"
    assert upstream.exchanges == []


def test_the_message_route_refuses_a_duplicate_key_too(api, upstream):
    url = f"/api/conversations/{start_conversation(api)['id']}/messages"

    refused = api.generic("POST", url, data=b'{"content": "hi", "content": "bye"}', content_type="application/json")

    assert "key 'content' twice" in assert_parse_error(refused, "chat")
    assert upstream.exchanges == []
