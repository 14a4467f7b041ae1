"""The OpenAI-compatible provider, over real HTTP to the fake upstream."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
import warnings

import pytest
from asgiref.sync import async_to_sync

from llm.errors import ProviderError, UpstreamMalformed, UpstreamTimeout
from llm.providers import get_provider, validate_completion

REQUEST = {
    "model": "fake-model",
    "messages": [{"role": "user", "content": "ping"}],
    "temperature": 0.5,
    "max_tokens": 8,
}


def test_returns_the_upstream_body_as_sent_and_sends_the_request_as_given(upstream):
    response = get_provider().complete(dict(REQUEST))
    [exchange] = upstream.exchanges
    assert exchange.request == REQUEST
    assert response == exchange.response
    assert exchange.headers["authorization"] == "Bearer sk-test"


def test_makes_exactly_one_call_even_when_the_upstream_fails(upstream):
    upstream.configure(status=500)
    with pytest.raises(ProviderError) as caught:
        get_provider().complete(dict(REQUEST))
    assert caught.value.upstream_status == 500
    assert "Fake upstream error 500" in caught.value.detail
    assert len(upstream.exchanges) == 1  # no silent SDK retries


def test_a_stalled_upstream_times_out(upstream, settings):
    settings.HARUCHAT_LLM_TIMEOUT = 0.3
    upstream.configure(latency=2.0)
    with pytest.raises(UpstreamTimeout):
        get_provider().complete(dict(REQUEST))


def test_a_non_json_body_is_malformed(upstream):
    upstream.configure(malformed="not_json")
    with pytest.raises(UpstreamMalformed):
        get_provider().complete(dict(REQUEST))


@pytest.mark.parametrize(
    "response",
    [
        [],
        {"choices": []},
        {"choices": [{"message": "text"}]},
        {"choices": [{"message": {"content": 5}}]},
        {"choices": [{"message": {"content": "a"}}], "created": "yesterday"},
        {"choices": [{"message": {"content": "a"}}], "usage": "lots"},
    ],
)
def test_responses_without_the_shape_of_a_completion_are_refused(response):
    with pytest.raises(UpstreamMalformed):
        validate_completion(response)


def test_the_provider_lists_its_models(upstream):
    provider = get_provider()
    assert provider.default_model() == "fake-model"
    assert provider.models() == ["fake-model", "fake-model-large"]


def open_connections(upstream) -> int:
    return len(upstream.server.server_state.connections)


def test_a_client_made_for_a_loop_is_closed_when_the_loop_ends(upstream):
    """Under WSGI each async request runs on a loop of its own (async_to_sync): its client must not outlive it."""
    provider = get_provider()
    before = open_connections(upstream)

    async def call():
        await provider.acomplete(dict(REQUEST))
        return provider.async_client()

    gc.collect()  # what earlier tests left for the collector is theirs, not this test's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clients = [async_to_sync(call)() for _ in range(2)]
        assert clients[0] is not clients[1]  # one per loop
        assert all(client.is_closed() for client in clients)
        assert provider._async_clients == {}
        del clients
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    deadline = time.monotonic() + 2  # the upstream's own keep-alive would close them only after 5 s
    while open_connections(upstream) > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert open_connections(upstream) <= before


def test_aclose_closes_the_running_loops_client(upstream):
    """What the ASGI lifespan does at shutdown, on uvicorn's one loop."""
    provider = get_provider()

    async def serve_then_shut_down():
        await provider.acomplete(dict(REQUEST))
        client = provider.async_client()
        await provider.aclose()
        return client, asyncio.all_tasks() - {asyncio.current_task()}

    client, left_running = asyncio.run(serve_then_shut_down())
    assert client.is_closed() and left_running == set()
    assert provider._async_clients == {}


def test_a_loop_closed_with_its_closer_pending_is_forgotten_quietly(upstream):
    """A loop closed without ending its tasks (not by asyncio.run) can't close its client: the next
    loop's first call drops it, and the pending closer then goes without awaiting anything."""
    provider = get_provider()

    async def make_client():
        return provider.async_client()

    dropped = asyncio.new_event_loop()
    dropped.run_until_complete(make_client())
    dropped.close()  # its closer is still pending
    unraisable = []
    previous_hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        asyncio.run(provider.acomplete(dict(REQUEST)))  # another loop: made, used, closed by asyncio.run
        del dropped
        gc.collect()
    finally:
        sys.unraisablehook = previous_hook
    assert provider._async_clients == {}
    assert [repr(u.exc_value) for u in unraisable if not isinstance(u.exc_value, ResourceWarning)] == []
