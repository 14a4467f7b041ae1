"""No request body of any shape gives a 500: every endpoint that takes a body is fed
arbitrary JSON (and arbitrary bytes) and must answer with a JSON 4xx or a success."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.tests.helpers import start_conversation

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# Bodies shaped like the real ones, with any values, find more than random shapes do.
FIELDS = [
    "email",
    "password",
    "nickname",
    "born_year",
    "job",
    "refresh",
    "title",
    "assistant",
    "intake",
    "model",
    "temperature",
    "max_tokens",
    "content",
    "stream",
    "name",
    "current_password",
    "messages",
]
plausible_bodies = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)

ENDPOINTS = [
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("patch", "/api/auth/me"),
    ("post", "/api/auth/api-keys"),
    ("post", "/api/conversations"),
    ("patch", "/api/conversations/{id}"),
    ("post", "/api/conversations/{id}/messages"),
]

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_any_json_body_gets_json_and_never_a_500(api, upstream, method, path):
    conversation = start_conversation(api)
    url = path.format(id=conversation["id"])

    @FUZZ
    @given(body=json_values | plausible_bodies)
    def check(body):
        upstream.configure(latency=0.0)
        response = getattr(api, method)(url, data=json.dumps(body), content_type="application/json")
        assert response.status_code < 500, (body, response.content)
        assert response["Content-Type"].startswith("application/json") or response.status_code == 204

    check()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_any_bytes_get_a_json_4xx(api, method, path):
    conversation = start_conversation(api)
    url = path.format(id=conversation["id"])

    @FUZZ
    @given(raw=st.binary(max_size=200))
    def check(raw):
        response = getattr(api, method)(url, data=raw, content_type="application/json")
        assert response.status_code < 500, (raw, response.content)

    check()
