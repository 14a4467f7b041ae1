"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, a llama.cpp server)
through the official `openai` SDK.

The raw HTTP body is kept, not the SDK's parsed object, so the stored record
is the JSON that actually crossed the wire.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx2
import openai
from django.conf import settings

from llm.errors import (
    ProviderError,
    StreamBroken,
    UpstreamMalformed,
    UpstreamRefused,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from llm.providers import Provider

logger = logging.getLogger(__name__)

COMPLETIONS_PATH = "/chat/completions"


class LoopClient(NamedTuple):
    """An event loop's async client, and the task that closes it when the loop ends."""

    client: openai.AsyncOpenAI
    closer: asyncio.Task[None]


class OpenAICompatProvider(Provider):
    name = "openai_compat"
    writes_titles = True

    def __init__(self) -> None:
        # No SDK retries: one member request is one upstream call, recorded once.
        self.client_options = {
            "base_url": settings.HARUCHAT_LLM_BASE_URL,
            "api_key": settings.HARUCHAT_LLM_API_KEY or "not-needed",
            "timeout": settings.HARUCHAT_LLM_TIMEOUT,
            "max_retries": 0,
        }
        self.client = openai.OpenAI(**self.client_options)
        # An async client's connection pool belongs to one event loop. The entry
        # lives as long as its loop: its closer removes it (a dict keyed weakly
        # would not let go either, as the client refers to its loop).
        self._async_clients: dict[asyncio.AbstractEventLoop, LoopClient] = {}

    def async_client(self) -> openai.AsyncOpenAI:
        """The SDK's async client on aiohttp (its documented faster transport), one per event loop."""
        loop = asyncio.get_running_loop()
        entry = self._async_clients.get(loop)
        if entry is None:
            self._forget_closed_loops()
            # The SDK caps a client at 1 000 connections; each open stream holds
            # one, so a process serving more streams than that would queue them.
            # (No limit at all is worse: the aiohttp transport then falls back to 100.)
            limits = httpx2.Limits(max_connections=settings.HARUCHAT_LLM_MAX_CONNECTIONS)
            client = openai.AsyncOpenAI(**self.client_options, http_client=openai.DefaultAioHttpClient(limits=limits))
            # Its own empty context: the closer outlives the request that made it.
            closer = loop.create_task(self._close_at_loop_end(loop, client), context=contextvars.Context())
            entry = self._async_clients[loop] = LoopClient(client, closer)
        return entry.client

    def _forget_closed_loops(self) -> None:
        """Drop the clients of loops closed without ending their tasks (so with the closer still
        pending); their connections can't be closed on a closed loop, but they are not kept."""
        for loop in [loop for loop in self._async_clients if loop.is_closed()]:
            del self._async_clients[loop]

    async def _close_at_loop_end(self, loop: asyncio.AbstractEventLoop, client: openai.AsyncOpenAI) -> None:
        """Wait for the loop's end, then close its client on it.

        Under uvicorn the lifespan's `aclose` ends this. Under WSGI (and Django's
        sync test client) each async request runs on a loop of its own (asgiref's
        async_to_sync runs `asyncio.run` in a new thread), whose client would be
        left open with its connections; `asyncio.run` cancels a loop's leftover
        tasks before closing it, and this one closes the client then. Made once
        per loop, so requests pay nothing for it.
        """
        try:
            await loop.create_future()  # never set
        except GeneratorExit:  # the loop was dropped with this still pending: nothing can be awaited now
            self._async_clients.pop(loop, None)
            raise
        except BaseException:
            self._async_clients.pop(loop, None)
            await client.close()
            raise

    async def aclose(self) -> None:
        """Close the running loop's client now (at the ASGI lifespan's shutdown)."""
        entry = self._async_clients.get(asyncio.get_running_loop())
        if entry is not None:
            entry.closer.cancel()
            await asyncio.wait([entry.closer])

    def default_model(self) -> str:
        return settings.HARUCHAT_LLM_MODEL or "gpt-4o-mini"

    def ready(self) -> bool:
        """The upstream answers HTTP (any answer below 500 means it is up)."""
        try:
            self.client.with_options(timeout=2.0).models.list()
        except openai.APIStatusError as exc:
            return exc.status_code < 500
        except openai.OpenAIError:
            return False
        return True

    # Plain calls go through the SDK's documented `post` for custom requests:
    # the request dict is already the JSON to send (validated above this
    # layer), so the SDK's per-call type transform is skipped, and the raw
    # response comes back as it crossed the wire.
    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            raw = self.client.post(COMPLETIONS_PATH, body=request, cast_to=httpx2.Response)
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from exc
        return _json_body(raw.text)

    async def acomplete(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            raw = await self.async_client().post(COMPLETIONS_PATH, body=request, cast_to=httpx2.Response)
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from exc
        return _json_body(raw.text)

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The SDK's stream, chunk by chunk, as the JSON objects the upstream sent.

        Also through the raw `post`: the SDK still reads the server-sent events
        and raises on an error event, but hands each chunk over as the parsed
        JSON instead of building a typed model and dumping it back: faster to the
        first chunk, and nothing the upstream sent is reshaped.
        """
        try:
            chunks = await self.async_client().post(
                COMPLETIONS_PATH, body=request, cast_to=object, stream=True, stream_cls=openai.AsyncStream[object]
            )
        except openai.OpenAIError as exc:
            raise _provider_error(exc) from exc
        try:
            async for chunk in chunks:
                if not isinstance(chunk, dict):
                    raise UpstreamMalformed("The model provider sent a stream chunk that is not a JSON object.")
                yield chunk
        except openai.OpenAIError as exc:
            raise _provider_error(exc, mid_stream=True) from exc
        except ProviderError:
            raise
        except (asyncio.CancelledError, GeneratorExit):
            await chunks.close()
            raise
        except Exception as exc:  # the transport broke: a cut connection, a half-sent event
            logger.warning("upstream stream broke: %r", exc)
            raise StreamBroken() from exc


def _json_body(body: str) -> dict[str, Any]:
    try:
        return json.loads(body, parse_constant=_not_json)
    except ValueError as exc:
        raise UpstreamMalformed("The model provider's response is not valid JSON.") from exc


def _not_json(constant: str) -> None:
    """NaN and Infinity, which Python's parser takes but JSON (and so the record and the client) has no room for."""
    raise ValueError(f"{constant} is not JSON")


# The upstream's refusals of the request itself, which a /v1 client can fix: passed back as they came.
# (401/403 say haruchat's own key is wrong, 429 that haruchat's account is limited: the server's, so 502.)
PASSED_BACK_STATUSES = (400, 404, 409, 413, 422)


def _provider_error(exc: openai.OpenAIError, *, mid_stream: bool = False) -> ProviderError:
    """The SDK's exception as the provider error the API reports."""
    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeout()
    if isinstance(exc, openai.APIConnectionError):
        if mid_stream:
            return StreamBroken()
        return UpstreamUnavailable(f"The model provider could not be reached: {exc}")
    if isinstance(exc, openai.APIStatusError) and exc.status_code in PASSED_BACK_STATUSES:
        inner = exc.body.get("error", exc.body) if isinstance(exc.body, dict) else {}
        inner = inner if isinstance(inner, dict) else {}
        return UpstreamRefused(
            _error_message(exc),
            upstream_status=exc.status_code,
            code=inner["code"] if isinstance(inner.get("code"), str) else None,
            param=inner["param"] if isinstance(inner.get("param"), str) else None,
        )
    if isinstance(exc, openai.APIStatusError):
        return ProviderError(
            f"The model provider answered HTTP {exc.status_code}: {_error_message(exc)}",
            upstream_status=exc.status_code,
        )
    if mid_stream:
        return StreamBroken(f"The model provider's stream broke off: {exc}")
    return ProviderError(str(exc))


def _error_message(exc: openai.APIStatusError) -> str:
    """The upstream's own error message when it sent one, else its reason."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
    return exc.message[:500] if exc.message else "no detail"
