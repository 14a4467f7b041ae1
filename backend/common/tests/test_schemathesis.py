"""Hostile input from the OpenAPI schema itself: schemathesis generates requests for
every operation, sent as an authenticated member to the ASGI application uvicorn
serves (async views, database threads and streams as in production), and no
answer may be a 5xx or break the documented response schema. Bounded here;
`HARUCHAT_FUZZ_EXAMPLES=500` for the long run.

Random input alone mostly meets the first check that refuses it, so about half
of the generated cases are pointed at what exists: path ids name the member's
own conversations and API keys, a body's `model` and `assistant` name real
ones, and a /v1 body gets a user message to answer (the fake upstream answers).
/v1 is called with a personal API key (the JWT is no key there). The data is
committed: the async paths work in database threads of their own.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.services import user_tokens_issue
from chat import selectors
from chat.models import Assistant
from chat.services.conversations import conversation_create, message_send
from config.asgi import django_application
from conftest import make_member
from gateway.services import api_key_create
from llm.providers import get_provider

EXAMPLES = int(os.environ.get("HARUCHAT_FUZZ_EXAMPLES", "8"))


async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """haruchat's ASGI application without its lifespan, whose background tasks (the stale-call sweep)
    would outlive this module's tests. schemathesis's client drops its event loops without ending their
    tasks, so the provider's connections for the loop are closed after each request instead."""
    if scope["type"] != "lifespan":
        try:
            return await django_application(scope, receive, send)
        finally:
            await get_provider().aclose()
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})


schema = schemathesis.openapi.from_asgi("/api/schema?format=json", http_only)

# The member's own objects by path parameter name, filled by the fixtures before any case is drawn.
OWN_IDS: dict[str, list[int]] = {}
ASSISTANT_SLUGS = ("free-chat", "meditation-guide", "study-coach")


@schema.hook
def flatmap_path_parameters(ctx: Any, path_parameters: Any) -> st.SearchStrategy:
    """About half of the ids name the member's own objects (random ints are only ever a 404)."""
    if isinstance(path_parameters, dict):
        for name in path_parameters:
            if OWN_IDS.get(name):
                own = st.sampled_from(OWN_IDS[name]).map(lambda id_, name=name: {**path_parameters, name: id_})
                return st.one_of(st.just(path_parameters), own)
    return st.just(path_parameters)


def _pointed_body(body: dict[str, Any], assistant: str) -> dict[str, Any]:
    """The body with a real model and assistant, and (for /v1) a user message to answer."""
    body = dict(body)
    if "model" in body:
        body["model"] = django_settings.HARUCHAT_LLM_MODELS[0]
    if "assistant" in body:
        body["assistant"] = assistant
    if isinstance(body.get("messages"), list):
        body["messages"] = [*body["messages"], {"role": "user", "content": "Hello there"}]
    return body


@schema.hook
def flatmap_body(ctx: Any, body: Any) -> st.SearchStrategy:
    """About half of the bodies name a real model and assistant, and ask something (or they are only ever a 4xx)."""
    if not isinstance(body, dict) or not {"model", "assistant", "messages"} & set(body):
        return st.just(body)
    return st.one_of(st.just(body), st.sampled_from(ASSISTANT_SLUGS).map(lambda slug: _pointed_body(body, slug)))


@pytest.fixture(autouse=True)
def allowance_for_every_case(settings, upstream) -> None:
    """Cases that reach the (fake) model are answered, not stopped by the daily allowance."""
    settings.HARUCHAT_DAILY_LIMIT = 1_000_000


@pytest.fixture
def own_ids() -> Any:
    yield OWN_IDS
    OWN_IDS.clear()


@pytest.fixture
def credentials(builtin_assistants, own_ids) -> dict[str, dict[str, str]]:
    """A member's JWT for /api and personal API key for /v1, with a conversation that has a model call, one
    whose intake opening awaits its answer, and the key. Committed: the async paths (a stream's end, all of
    /v1) work in database threads of their own, which can't see a test's open transaction."""
    member = make_member(email="fuzz@example.com", nickname="fuzz")
    chat = conversation_create(user=member, assistant=selectors.assistant_default(), title="tea")
    message_send(user=member, conversation=chat, content="Hello there")
    guided = conversation_create(
        user=member,
        assistant=Assistant.objects.get(slug="meditation-guide"),
        intake={"current_state": "tense", "goal": "relax", "misc": ""},
    )
    key, secret = api_key_create(user=member, name="fuzz")
    own_ids.update(conversation_id=[chat.pk, guided.pk], key_id=[key.pk])
    return {
        "jwt": {"Authorization": f"Bearer {user_tokens_issue(user=member)['access']}"},
        "api_key": {"Authorization": f"Bearer {secret}"},
    }


def call_and_check(case: Any, credentials: dict[str, dict[str, str]]) -> Any:
    """Call as the member (with the API key on /v1): no 5xx, and the answer as documented."""
    response = case.call(headers=credentials["api_key" if case.path.startswith("/v1/") else "jwt"])
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}\n"
        f"Reproduce with: {case.as_curl_command()}"
    )
    if not case.path.endswith("/start"):  # the OAuth start redirects the browser to a provider: no JSON to check
        case.validate_response(
            response, checks=[response_schema_conformance, content_type_conformance, status_code_conformance]
        )
    return response


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error_or_an_undocumented_shape(case, credentials):
    call_and_check(case, credentials)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/conversations/{conversation_id}/messages", {"content": "Hello there", "stream": True}),
        (
            "/v1/chat/completions",
            {"model": "fake-model", "messages": [{"role": "user", "content": "Hi"}], "stream": True},
        ),
    ],
)
def test_a_streamed_answer_is_as_documented(path, body, credentials):
    parameters = {"conversation_id": OWN_IDS["conversation_id"][0]} if "{" in path else {}
    case = schema[path]["POST"].Case(path_parameters=parameters, body=body, media_type="application/json")
    response = call_and_check(case, credentials)
    assert (response.status_code, response.headers["content-type"]) == (200, ["text/event-stream"])
