"""A fake OpenAI-compatible upstream: a real HTTP server on loopback.

Tests and benchmarks point haruchat's `openai_compat` provider at it instead
of patching the client. It speaks `POST /v1/chat/completions` (plain and
`stream: true`) and `GET /v1/models`, keeps every exchange (the request body
it received and the response body it sent), and has switches for faults:

    latency      seconds to wait before answering
    status       answer with this HTTP error status and an OpenAI error body
    malformed    "not_json" (a 200 that is not JSON), "nan" (a 200, or a stream's usage, whose
                 JSON carries NaN, which Python's parser takes but JSON has no room for),
                 "no_choices", or "bad_chunk" (a stream whose third event is JSON but not an object)
    reply        the answer's text (default: "Echo: <last user message>")
    fail_times   apply `status`/`malformed` to the next N requests only
    chunks       number of chunks a streamed answer is split into
    chunk_delay  seconds between streamed chunks
    break_after  cut a stream's connection after this many chunks
    stall_after  stop sending (but keep the connection open) after this many chunks
    no_usage     never send a stream's usage chunk, even when asked (as some servers do)

Switches are set in-process (`FakeUpstream.configure`) or over HTTP
(`POST /_control` with a JSON object; `GET /_control/exchanges`;
`POST /_control/reset`).

Run alone, from backend/:  python -m testing.fake_upstream --port 9100 [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from testing.loopback import LoopbackServer

DEFAULTS: dict[str, Any] = {
    "latency": 0.0,
    "status": None,
    "malformed": None,
    "reply": None,
    "fail_times": None,
    "chunks": 8,
    "chunk_delay": 0.0,
    "break_after": None,
    "stall_after": None,
    "no_usage": False,
    "model": "fake-model",
}


@dataclass
class Exchange:
    """One request the upstream received and the body it answered with."""

    path: str
    request: Any
    headers: dict[str, str]
    status: int = 0
    response_text: str = ""

    @property
    def response(self) -> Any:
        return json.loads(self.response_text)


@dataclass
class UpstreamState:
    switches: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    exchanges: list[Exchange] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, **switches: Any) -> None:
        unknown = set(switches) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown switches: {sorted(unknown)}")
        with self.lock:
            self.switches.update(switches)

    def reset(self) -> None:
        with self.lock:
            self.switches = dict(DEFAULTS)
            self.exchanges.clear()

    def take_fault(self) -> tuple[int | None, str | None]:
        """The error to apply to this request, counting down `fail_times`."""
        with self.lock:
            status, malformed = self.switches["status"], self.switches["malformed"]
            remaining = self.switches["fail_times"]
            if remaining is not None:
                if remaining <= 0:
                    return None, None
                self.switches["fail_times"] = remaining - 1
            return status, malformed


def _words(text: str) -> int:
    return len(text.split())


def completion_body(request: dict[str, Any], reply: str, model: str) -> dict[str, Any]:
    """A chat completion with a few fields haruchat has no column for, to prove they survive."""
    prompt_tokens = sum(_words(str(m.get("content") or "")) for m in request.get("messages", []))
    completion_tokens = _words(reply)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or model,
        "system_fingerprint": "fp_fake_upstream",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }


def default_reply(request: dict[str, Any]) -> str:
    users = [m for m in request.get("messages", []) if isinstance(m, dict) and m.get("role") == "user"]
    last = str(users[-1].get("content") or "") if users else ""
    return f"Echo: {last}"


class FakeUpstreamApp:
    """The ASGI application behind the fake upstream."""

    def __init__(self, state: UpstreamState):
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, method = scope["path"], scope["method"]
        if path == "/v1/chat/completions" and method == "POST":
            await self.chat_completions(scope, body, send)
        elif path == "/v1/models" and method == "GET":
            model = self.state.switches["model"]
            await _send_json(
                send, 200, {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "fake"}]}
            )
        elif path == "/_control" and method == "POST":
            try:
                self.state.configure(**json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                await _send_json(send, 400, {"error": str(exc)})
                return
            await _send_json(send, 200, self.state.switches)
        elif path == "/_control/reset" and method == "POST":
            self.state.reset()
            await _send_json(send, 200, self.state.switches)
        elif path == "/_control/exchanges" and method == "GET":
            items = [
                {"request": e.request, "status": e.status, "response_text": e.response_text}
                for e in self.state.exchanges
            ]
            await _send_json(send, 200, items)
        else:
            await _send_json(send, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    async def chat_completions(self, scope: dict[str, Any], body: bytes, send: Any) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        exchange = Exchange(path=scope["path"], request=request, headers=headers)
        with self.state.lock:
            self.state.exchanges.append(exchange)
        switches = dict(self.state.switches)
        status, malformed = self.state.take_fault()
        if switches["latency"]:
            await asyncio.sleep(switches["latency"])
        if not isinstance(request, dict):
            await _answer(send, exchange, 400, _error_body("The body is not a JSON object.", "invalid_request_error"))
            return
        if status:
            kind = (
                "rate_limit_exceeded" if status == 429 else "server_error" if status >= 500 else "invalid_request_error"
            )
            await _answer(send, exchange, status, _error_body(f"Fake upstream error {status}.", kind))
            return
        reply = switches["reply"] if switches["reply"] is not None else default_reply(request)
        if malformed == "not_json":
            await _answer_text(send, exchange, 200, "<html>this is not json</html>", b"text/html")
            return
        if malformed == "nan" and not request.get("stream"):
            body = {**completion_body(request, reply, switches["model"]), "score": math.nan}
            await _answer(send, exchange, 200, body)
            return
        if malformed == "no_choices":
            await _answer(send, exchange, 200, {"id": "chatcmpl-broken", "object": "chat.completion", "created": 0})
            return
        if request.get("stream"):
            await self.stream(send, exchange, request, reply, {**switches, "malformed": malformed})
            return
        await _answer(send, exchange, 200, completion_body(request, reply, switches["model"]))

    async def stream(
        self, send: Any, exchange: Exchange, request: dict[str, Any], reply: str, switches: dict[str, Any]
    ) -> None:
        """Stream the reply as Server-Sent Events in `chunks` pieces."""
        full = completion_body(request, reply, switches["model"])
        pieces = _split(reply, max(int(switches["chunks"]), 1))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
            }
        )
        exchange.status = 200
        base = {k: full[k] for k in ("id", "object", "created", "model", "system_fingerprint")}
        base["object"] = "chat.completion.chunk"
        events = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        ]
        events += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (request.get("stream_options") or {}).get("include_usage") and not switches["no_usage"]:
            usage = {**full["usage"], "prompt_tokens": math.nan} if switches["malformed"] == "nan" else full["usage"]
            events.append({**base, "choices": [], "usage": usage})
        for number, event in enumerate(events):
            if switches["break_after"] is not None and number >= switches["break_after"]:
                raise ConnectionAbortedError("fake upstream: stream cut on purpose")
            if switches["stall_after"] is not None and number >= switches["stall_after"]:
                await asyncio.sleep(3600)
            if switches["malformed"] == "bad_chunk" and number == 2:
                event = ["not", "an", "object"]
            text = f"data: {json.dumps(event)}\n\n"
            exchange.response_text += text
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})
            if switches["chunk_delay"]:
                await asyncio.sleep(switches["chunk_delay"])
        exchange.response_text += "data: [DONE]\n\n"
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


def _split(text: str, parts: int) -> list[str]:
    size = max(-(-len(text) // parts), 1)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


async def _send_json(send: Any, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})


async def _answer(send: Any, exchange: Exchange, status: int, body: Any) -> None:
    await _answer_text(send, exchange, status, json.dumps(body), b"application/json")


async def _answer_text(send: Any, exchange: Exchange, status: int, text: str, content_type: bytes) -> None:
    exchange.status, exchange.response_text = status, text
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
    await send({"type": "http.response.body", "body": text.encode()})


class FakeUpstream(LoopbackServer):
    """The fake upstream served by uvicorn in a background thread on a free loopback port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.state = UpstreamState()
        super().__init__(FakeUpstreamApp(self.state), host=host, port=port)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def exchanges(self) -> list[Exchange]:
        return self.state.exchanges

    def configure(self, **switches: Any) -> None:
        self.state.configure(**switches)

    def reset(self) -> None:
        self.state.reset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    state = UpstreamState()
    state.configure(latency=args.latency)
    print(f"fake OpenAI-compatible upstream at http://{args.host}:{args.port}/v1", flush=True)
    uvicorn.run(FakeUpstreamApp(state), host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
