"""Hostile input from the OpenAPI schema itself: schemathesis generates requests for
every operation, sent as an authenticated member, and no answer may be a 5xx or
break the documented response schema. Bounded here; `HARUCHAT_FUZZ_EXAMPLES=500`
for the long run."""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import tokens_for_user
from conftest import make_member

EXAMPLES = int(os.environ.get("HARUCHAT_FUZZ_EXAMPLES", "8"))

schema = schemathesis.openapi.from_wsgi("/api/schema?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection(upstream):
    """As Django's test client does: keep the test's connection (and transaction) open between requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def member_headers(db) -> dict[str, str]:
    member = make_member(email="fuzz@example.com", nickname="fuzz")
    return {"Authorization": f"Bearer {tokens_for_user(member)['access']}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error_or_an_undocumented_shape(case, member_headers):
    response = case.call(headers=member_headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    )
    if case.path.endswith("/start"):
        return  # the OAuth start redirects the browser to a provider: no JSON to check
    case.validate_response(
        response, checks=[response_schema_conformance, content_type_conformance, status_code_conformance]
    )
