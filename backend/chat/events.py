"""The web app's answer stream: `start`, a `delta` per piece of text, then `done` or `error`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from chat.serializers import MessageOutputSerializer
from chat.services.call_stream import Delta, Finished, call_stream
from chat.services.calls import ModelCallFailed, PreparedCall
from common.streams import sse_event
from quota.serializers import quota_output


def error_event_body(error: ModelCallFailed) -> dict[str, Any]:
    """The error body the JSON answer would have had, with its status."""
    return {"detail": str(error.detail), "code": error.get_codes(), **error.extra, "status": error.status_code}


async def message_events(*, call: PreparedCall) -> AsyncIterator[bytes]:
    yield sse_event(
        "start",
        {
            "user_message": MessageOutputSerializer(call.user_message).data,
            "completion_id": call.completion.pk,
            "quota": quota_output(call.reservation.status),
        },
    )
    async for event in call_stream(call=call):
        if isinstance(event, Delta):
            if event.text:
                yield sse_event("delta", {"content": event.text})
        elif isinstance(event, Finished):
            result = event.result
            yield sse_event(
                "done",
                {
                    "assistant_message": MessageOutputSerializer(result.answer).data,
                    "completion_id": result.completion.pk,
                    "finish_reason": event.response["choices"][0]["finish_reason"],
                    "usage": event.response["usage"],
                    "usage_counted": result.completion.usage_counted,
                    "quota": quota_output(result.quota),
                },
            )
        else:
            yield sse_event("error", error_event_body(event.error))
