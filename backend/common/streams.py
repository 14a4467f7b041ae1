"""The one way haruchat answers with Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from django.http import StreamingHttpResponse

from common.renderers import json_bytes

# Keep proxies from buffering the stream, and caches from keeping it.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event_stream_response(
    events: AsyncIterator[bytes], *, headers: dict[str, str] | None = None
) -> StreamingHttpResponse:
    """A text/event-stream over an async iterator (a sync one would be buffered whole under ASGI)."""
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    for name, value in {**(headers or {}), **SSE_HEADERS}.items():
        response[name] = value
    return response


def sse_event(event: str, data: Any, *, event_id: int | str | None = None) -> bytes:
    """One named Server-Sent Event with a JSON body (and an id a client resumes from: Last-Event-ID)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + json_bytes(data) + b"\n\n"


def sse_data(data: Any) -> bytes:
    """One unnamed event (OpenAI's stream format)."""
    return b"data: " + json_bytes(data) + b"\n\n"
