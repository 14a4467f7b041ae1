"""POST /v1/responses, stateless: OpenAI's Responses API carried on the Chat Completions call lifecycle.

A Responses request becomes the chat completion request sent upstream
(and recorded, as every call is); its answer is told back as a `response`
object, or streamed as the Responses API's typed events. Nothing is kept
for later turns, so `previous_response_id` is refused with a clear 400.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from rest_framework import serializers

from chat.limits import max_tokens_limit
from chat.services.call_stream import Delta, Failed, Finished, StreamEvent, resumed
from gateway.requests import (
    MessageContent,
    StrictBooleanField,
    StrictFloatField,
    StrictIntegerField,
    refuse_unstorable_characters,
)

# Parameters of the Responses API that need state or tools haruchat doesn't keep or run.
NOT_SUPPORTED = ("previous_response_id", "conversation", "tools", "tool_choice", "background", "prompt", "include")

INPUT_PART_TYPES = {"input_text": "text", "output_text": "text", "input_image": "image_url"}


class InputItemSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["message"], required=False)
    role = serializers.ChoiceField(choices=["user", "assistant", "system", "developer"])
    content = serializers.JSONField()

    def validate_content(self, content: Any) -> Any:
        if isinstance(content, str):
            return MessageContent().run_validation(content)
        if not isinstance(content, list) or not all(
            isinstance(p, dict) and p.get("type") in INPUT_PART_TYPES for p in content
        ):
            raise serializers.ValidationError(
                "An input item's content is a string or parts of type " + ", ".join(INPUT_PART_TYPES) + "."
            )
        MessageContent().run_validation([_chat_part(p) for p in content])
        return content


class ResponsesRequestSerializer(serializers.Serializer):
    """The stateless part of OpenAI's Responses API request."""

    model = serializers.CharField(max_length=200)
    input = serializers.JSONField()
    instructions = serializers.CharField(required=False, allow_null=True, allow_blank=True, trim_whitespace=False)
    max_output_tokens = StrictIntegerField(
        min_value=1, required=False, allow_null=True, validators=[max_tokens_limit()]
    )
    temperature = StrictFloatField(min_value=0.0, max_value=2.0, required=False, allow_null=True)
    top_p = StrictFloatField(min_value=0.0, max_value=1.0, required=False, allow_null=True)
    stream = StrictBooleanField(required=False, allow_null=True)
    store = StrictBooleanField(required=False, allow_null=True)
    user = serializers.CharField(required=False, max_length=200)
    metadata = serializers.DictField(child=serializers.CharField(max_length=512), required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            for name in NOT_SUPPORTED:
                if data.get(name) not in (None, [], ""):
                    raise serializers.ValidationError(
                        {name: [f"haruchat's /v1/responses is stateless and does not support '{name}'."]},
                        code="unsupported_parameter",
                    )
            unknown = sorted(set(data) - set(self.fields) - set(NOT_SUPPORTED))
            if unknown:
                raise serializers.ValidationError(
                    {unknown[0]: [f"haruchat's /v1/responses does not support '{unknown[0]}'."]},
                    code="unsupported_parameter",
                )
            for key, value in data.items():
                try:
                    refuse_unstorable_characters({key: value})
                except serializers.ValidationError as exc:
                    raise serializers.ValidationError({key: exc.detail}) from exc
        return super().to_internal_value(data)

    def validate_input(self, value: Any) -> Any:
        if isinstance(value, str):
            MessageContent().run_validation(value)
            return value
        if not isinstance(value, list) or not value:
            raise serializers.ValidationError("input is a string or a non-empty list of message items.")
        items = InputItemSerializer(data=value, many=True)
        items.is_valid(raise_exception=True)
        if not any(item["role"] == "user" for item in items.validated_data):
            raise serializers.ValidationError("input needs at least one user message.", code="no_user_message")
        return value


def _chat_part(part: dict[str, Any]) -> dict[str, Any]:
    if INPUT_PART_TYPES[part["type"]] == "text":
        return {"type": "text", "text": part.get("text") if isinstance(part.get("text"), str) else ""}
    return {"type": "image_url", "image_url": {"url": str(part.get("image_url") or "")}}


def chat_request(data: dict[str, Any]) -> dict[str, Any]:
    """The chat completion request a Responses request is sent (and recorded) as."""
    messages: list[dict[str, Any]] = []
    if data.get("instructions"):
        messages.append({"role": "system", "content": data["instructions"]})
    items = data["input"]
    if isinstance(items, str):
        messages.append({"role": "user", "content": items})
    else:
        for item in items:
            content = item["content"]
            if isinstance(content, list):
                content = [_chat_part(p) for p in content]
            messages.append({"role": item["role"], "content": content})
    request: dict[str, Any] = {"model": data["model"], "messages": messages}
    for ours, theirs in (("max_output_tokens", "max_tokens"), ("temperature", "temperature"), ("top_p", "top_p")):
        if data.get(ours) is not None:
            request[theirs] = data[ours]
    for name in ("user", "metadata", "store"):
        if data.get(name) is not None:
            request[name] = data[name]
    if data.get("stream"):
        request["stream"] = True
    return request


def _usage(usage: dict[str, Any] | None) -> dict[str, Any] | None:
    if not usage:
        return None
    prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.get("total_tokens") or prompt + completion,
    }


def _message_item(response_id: str, text: str, status: str) -> dict[str, Any]:
    return {
        "type": "message",
        "id": f"msg_{response_id}",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def response_object(
    data: dict[str, Any], *, response_id: str, created_at: int, completion: dict[str, Any] | None
) -> dict[str, Any]:
    """The Responses API's `response` for a chat completion (None: still in progress)."""
    status, text, incomplete, usage = "in_progress", "", None, None
    if completion is not None:
        choice = completion["choices"][0]
        text = choice["message"].get("content") or ""
        status = "incomplete" if choice.get("finish_reason") == "length" else "completed"
        incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
        usage = _usage(completion.get("usage"))
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": data.get("instructions"),
        "max_output_tokens": data.get("max_output_tokens"),
        "model": (completion or {}).get("model") or data["model"],
        "output": [_message_item(response_id, text, status)] if completion is not None else [],
        "output_text": text,
        "parallel_tool_calls": False,
        "previous_response_id": None,
        "store": False,
        "temperature": data.get("temperature"),
        "text": {"format": {"type": "text"}},
        "tool_choice": "none",
        "tools": [],
        "top_p": data.get("top_p"),
        "usage": usage,
        "user": data.get("user"),
        "metadata": data.get("metadata") or {},
    }


async def response_events(
    data: dict[str, Any], response_id: str, first: StreamEvent, rest: AsyncGenerator[StreamEvent]
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The Responses API's typed stream events, from the chat completion's stream."""
    created_at = int(time.time())
    item_id = f"msg_{response_id}"
    where = {"item_id": item_id, "output_index": 0, "content_index": 0}
    started = response_object(data, response_id=response_id, created_at=created_at, completion=None)
    yield "response.created", {"response": started}
    yield "response.in_progress", {"response": started}
    item = {**_message_item(response_id, "", "in_progress"), "content": []}
    yield "response.output_item.added", {"output_index": 0, "item": item}
    part = {"type": "output_text", "text": "", "annotations": []}
    yield "response.content_part.added", {**where, "part": part}

    text = []
    async for event in resumed(first, rest):
        if isinstance(event, Delta) and event.text:
            text.append(event.text)
            yield "response.output_text.delta", {**where, "delta": event.text}
        elif isinstance(event, Finished):
            done = response_object(data, response_id=response_id, created_at=created_at, completion=event.response)
            whole = "".join(text)
            yield "response.output_text.done", {**where, "text": whole}
            yield "response.content_part.done", {**where, "part": {**part, "text": whole}}
            yield "response.output_item.done", {"output_index": 0, "item": done["output"][0]}
            yield ("response.completed" if done["status"] == "completed" else "response.incomplete"), {"response": done}
        elif isinstance(event, Failed):
            failed = response_object(data, response_id=response_id, created_at=created_at, completion=None)
            failed.update(status="failed", error={"code": event.error.get_codes(), "message": str(event.error.detail)})
            yield "response.failed", {"response": failed}
