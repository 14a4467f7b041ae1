"""The group routes fuzzed from their schema as an operator, with ids pointed at the operator's own group,
its members and invites (common's fuzz test runs as a member, for whom every group route is a 404): no 5xx,
and every answer as documented, including the CSV import's three kinds of body."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import user_tokens_issue
from config.asgi import django_application
from conftest import make_member
from groups.models import Group, Membership
from groups.services import invite_create

EXAMPLES = int(os.environ.get("HARUCHAT_FUZZ_EXAMPLES", "8"))


async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI application without its lifespan (whose background sweep would outlive the test)."""
    if scope["type"] != "lifespan":
        return await django_application(scope, receive, send)
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


schema = schemathesis.openapi.from_asgi("/api/schema?format=json", http_only).include(path_regex="^/api/groups")
OWN_IDS: dict[str, list[int]] = {}


@schema.hook
def flatmap_path_parameters(ctx: Any, path_parameters: Any) -> st.SearchStrategy:
    """About half of the cases name the operator's own group (and its members and invites)."""
    if not isinstance(path_parameters, dict) or not OWN_IDS:
        return st.just(path_parameters)
    own = {
        name: st.sampled_from(OWN_IDS[name]) if OWN_IDS.get(name) else st.just(value)
        for name, value in path_parameters.items()
    }
    return st.one_of(st.just(path_parameters), st.fixed_dictionaries(own))


@pytest.fixture
def operator_jwt(builtin_assistants) -> Any:
    """An operator of a group with a member and an invite. Committed: the ASGI app works in threads of its own."""
    group = Group.objects.create(name="Fuzz class")
    operator = make_member(email="fuzz-op@example.com", nickname="fuzz-op")
    Membership.objects.create(group=group, user=operator, role=Membership.Role.OPERATOR)
    student = make_member(email="fuzz-student@example.com", nickname="fuzz-student")
    Membership.objects.create(group=group, user=student)
    invite = invite_create(group=group, created_by=operator)
    OWN_IDS.update(group_id=[group.pk], user_id=[student.pk, operator.pk], invite_id=[invite.pk])
    yield {"Authorization": f"Bearer {user_tokens_issue(user=operator)['access']}"}
    OWN_IDS.clear()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_to_a_group_route_gets_a_server_error_or_an_undocumented_shape(case, operator_jwt):
    response = case.call(headers=operator_jwt)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}\n"
        f"Reproduce with: {case.as_curl_command()}"
    )
    case.validate_response(
        response, checks=[response_schema_conformance, content_type_conformance, status_code_conformance]
    )
