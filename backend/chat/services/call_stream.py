"""A streamed call: run a prepared call chunk by chunk, then settle it whole.

The stream runs on the event loop; each database step runs in a database
thread (common.db) and gives its connection back at once, so nothing is held
while the model is producing. Whatever happens (the upstream fails before the
first token, the stream breaks or stalls, the client goes away) the member's
message stays, the call is recorded, and a call that produced nothing is
refunded. The web app's events (chat.events) and /v1's chunks are built on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from chat.models import Message
from chat.services.calls import CallResult, ModelCallFailed, PreparedCall, call_cut, call_fail, call_succeed
from common.db import in_db_finishing
from llm.errors import ProviderError, StreamBroken, UpstreamMalformed, UpstreamTimeout


class ClientDisconnected(ProviderError):
    code = "client_disconnected"
    default_detail = "The client went away before the answer was complete."


class Stopped(ProviderError):
    """The member pressed Stop (chat.services.generations throws it into the stream)."""

    status_code = 499
    code = "stopped"
    default_detail = "Stopped before the answer was complete."


# finish_reason stored for an answer that did not end normally.
CUT_FINISH_REASONS = {
    StreamBroken.code: "stream_broken",
    UpstreamTimeout.code: "timeout",
    ClientDisconnected.code: "client_disconnected",
}


@dataclass
class ChoiceAssembler:
    """One choice of a streamed answer, built from its deltas."""

    role: str = "assistant"
    parts: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    logprobs: dict[str, list[Any]] | None = None
    finish_reason: str | None = None

    def feed(self, choice: dict[str, Any]) -> str:
        delta = choice.get("delta") or {}
        if isinstance(delta.get("role"), str):
            self.role = delta["role"]
        text = delta["content"] if isinstance(delta.get("content"), str) else ""
        if text:
            self.parts.append(text)
        if isinstance(delta.get("refusal"), str):
            self.refusal.append(delta["refusal"])
        for call in delta.get("tool_calls") or []:
            if isinstance(call, dict):
                self._tool_call_delta(call)
        if isinstance(choice.get("logprobs"), dict):  # each chunk's token log probabilities, in order
            self.logprobs = self.logprobs or {}
            for key, items in choice["logprobs"].items():
                if isinstance(items, list):
                    self.logprobs.setdefault(key, []).extend(items)
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        return text

    def _tool_call_delta(self, delta: dict[str, Any]) -> None:
        """OpenAI sends a call's id, type and name first, then its arguments in pieces, keyed by index."""
        index = delta.get("index")
        call = self.tool_calls.setdefault(
            index if isinstance(index, int) else len(self.tool_calls),
            {"id": "", "type": "function", "function": {"name": "", "arguments": ""}},
        )
        if delta.get("id"):
            call["id"] = delta["id"]
        if delta.get("type"):
            call["type"] = delta["type"]
        function = delta.get("function") or {}
        if isinstance(function.get("name"), str):
            call["function"]["name"] += function["name"]
        if isinstance(function.get("arguments"), str):
            call["function"]["arguments"] += function["arguments"]

    @property
    def content(self) -> str:
        return "".join(self.parts)

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["content"] = self.content or None  # as OpenAI answers a call with no text
            message["tool_calls"] = [self.tool_calls[index] for index in sorted(self.tool_calls)]
        if self.refusal:
            message["refusal"] = "".join(self.refusal)
        return message


@dataclass
class StreamAssembler:
    """Builds the whole chat completion from its chunks: every choice (`n`), tool calls and log probabilities."""

    envelope: dict[str, Any] = field(default_factory=dict)
    choices: dict[int, ChoiceAssembler] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    content_chunks: int = 0

    def feed(self, chunk: dict[str, Any]) -> str:
        """Take one chunk; return the text it adds to the first choice (the one a conversation keeps).

        The parts kept for the record (the envelope, the usage) must be JSON:
        Python's parser also takes NaN and Infinity, which a plain answer
        carrying them is refused for as well.
        """
        if _not_json_number(chunk.get("created")) or (
            isinstance(chunk.get("usage"), dict) and any(map(_not_json_number, chunk["usage"].values()))
        ):
            raise UpstreamMalformed("The model provider sent a stream chunk that is not valid JSON (NaN or Infinity).")
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            if key not in self.envelope and chunk.get(key) is not None:
                self.envelope[key] = chunk[key]
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        first_text = ""
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or not isinstance(choice.get("index", 0), int):
                continue
            index = choice.get("index", 0)
            text = self.choices.setdefault(index, ChoiceAssembler()).feed(choice)
            if text:
                self.content_chunks += 1
                if index == 0:
                    first_text += text
        return first_text

    @property
    def content(self) -> str:
        first = self.choices.get(0)
        return first.content if first else ""

    @property
    def produced(self) -> bool:
        """Whether any choice has text or a tool call: a stream cut after that keeps what it made."""
        return any(c.parts or c.tool_calls for c in self.choices.values())

    def response(self, *, finish_reason: str | None = None, counted_usage: dict[str, int] | None = None) -> dict:
        """The assembled `chat.completion`, as if the upstream had answered in one piece."""
        choices = self.choices or {0: ChoiceAssembler()}
        return {
            "id": self.envelope.get("id", ""),
            "object": "chat.completion",
            "created": self.envelope.get("created", 0),
            "model": self.envelope.get("model", ""),
            **{key: self.envelope[key] for key in ("system_fingerprint", "service_tier") if key in self.envelope},
            "choices": [
                {
                    "index": index,
                    "message": choice.message(),
                    **({"logprobs": choice.logprobs} if choice.logprobs is not None else {}),
                    "finish_reason": finish_reason or choice.finish_reason,
                }
                for index, choice in sorted(choices.items())
            ],
            "usage": self.usage if self.usage is not None else counted_usage,
        }


def _not_json_number(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


@dataclass(frozen=True)
class Delta:
    """One upstream chunk and the text it adds (often empty: role, finish, usage chunks)."""

    text: str
    chunk: dict[str, Any]


@dataclass(frozen=True)
class Finished:
    result: CallResult
    response: dict[str, Any]


@dataclass(frozen=True)
class Failed:
    error: ModelCallFailed
    partial_message: Message | None


StreamEvent = Delta | Finished | Failed


def _counted_usage(call: PreparedCall, assembler: StreamAssembler) -> dict[str, int]:
    # Under a token budget the bound it held for the prompt, not an estimate that may count too few.
    if call.reservation.tokens_reserved:
        prompt_tokens = call.provider.prompt_tokens_bound(call.request)
    else:
        prompt_tokens = call.provider.count_prompt_tokens(call.request)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": assembler.content_chunks,
        "total_tokens": prompt_tokens + assembler.content_chunks,
    }


def _settle_finished(call: PreparedCall, assembler: StreamAssembler) -> tuple[CallResult, dict[str, Any]]:
    counted = None if assembler.usage is not None else _counted_usage(call, assembler)
    response = assembler.response(counted_usage=counted)
    return call_succeed(call=call, response=response, usage_counted=counted is not None), response


def _settle_failed(call: PreparedCall, assembler: StreamAssembler, error: BaseException) -> Failed | Finished:
    """Settle a stream that ended badly: failed if it produced no text, otherwise cut, keeping the text.

    Stopped by the member after some text, it is an answer (counted, finish_reason "stopped").
    """
    if not assembler.produced or not isinstance(error, ProviderError):
        return Failed(call_fail(call=call, error=error), None)
    if isinstance(error, Stopped):
        counted = None if assembler.usage is not None else _counted_usage(call, assembler)
        response = assembler.response(finish_reason="stopped", counted_usage=counted)
        result = call_succeed(
            call=call, response=response, usage_counted=counted is not None, answer_status=Message.Status.STOPPED
        )
        return Finished(result, response)
    counted = None if assembler.usage is not None else _counted_usage(call, assembler)
    response = assembler.response(finish_reason=CUT_FINISH_REASONS.get(error.code, "error"), counted_usage=counted)
    partial, failure = call_cut(call=call, response=response, error=error, usage_counted=counted is not None)
    return Failed(failure, partial)


async def _next_chunk(chunks: AsyncIterator[dict[str, Any]], timeout: float, stop: asyncio.Event | None) -> Any:
    """The upstream's next chunk; Stopped as soon as `stop` is set, even while the upstream is quiet."""
    if stop is None:
        return await asyncio.wait_for(chunks.__anext__(), timeout)
    if stop.is_set():
        raise Stopped()
    chunk = asyncio.ensure_future(chunks.__anext__())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({chunk, stopping}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if chunk.done():
        return chunk.result()
    chunk.cancel()
    with contextlib.suppress(BaseException):  # the upstream's stream, closed as it is left
        await chunk
    if stop.is_set():
        raise Stopped()
    raise TimeoutError


async def call_stream(*, call: PreparedCall, stop: asyncio.Event | None = None) -> AsyncIterator[StreamEvent]:
    """Run a prepared call chunk by chunk, ending in Finished or Failed (`stop` set: Stopped)."""
    assembler = StreamAssembler()
    chunks = call.provider.stream(call.request).__aiter__()
    timeout = settings.HARUCHAT_LLM_TIMEOUT
    try:
        while True:
            try:
                chunk = await _next_chunk(chunks, timeout, stop)
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise UpstreamTimeout("The model provider stopped sending before the answer was complete.") from None
            yield Delta(assembler.feed(chunk), chunk)
    except (asyncio.CancelledError, GeneratorExit):
        await asyncio.shield(in_db_finishing(_settle_failed, call, assembler, ClientDisconnected()))
        raise
    except Exception as exc:
        yield await in_db_finishing(_settle_failed, call, assembler, exc)
        return
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    try:
        result, response = await in_db_finishing(_settle_finished, call, assembler)
    except ModelCallFailed as failed:  # the answer could not be recorded: the call failed (calls.call_succeed)
        yield Failed(failed, None)
        return
    yield Finished(result, response)


async def resumed(first: StreamEvent, rest: AsyncGenerator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    """A stream whose first event was read ahead (to answer a failure with a plain error), whole again.

    Closing it closes `rest` on the running loop, not at garbage collection.
    """
    try:
        yield first
        async for event in rest:
            yield event
    finally:
        await rest.aclose()
