"""A fake OpenAI-compatible upstream: a real HTTP server on loopback.

Tests and benchmarks point haruchat's `openai_compat` provider at it instead
of patching the client. It speaks `POST /v1/chat/completions` (plain and
`stream: true`) and `GET /v1/models`, keeps every exchange (the request body
it received and the response body it sent), and has switches for faults.

What it makes of the request (no switch needed):

    messages        `content` as a string or an array of parts (text parts are read, others skipped);
                    the answer is "Echo: <last user message>"; when the last message is a `tool`
                    message, it is "Tool result: <that message's content>" instead
    n               n choices, each with its own index; choice k > 0 has " (k+1)" after its text
    logprobs        true: every choice carries {"content": [{token, logprob, bytes, top_logprobs}],
                    "refusal": null}; `top_logprobs` alternatives per token (0 by default);
                    streamed, each content chunk carries the logprobs of its own tokens
    tools           with `tool_choice` absent, "auto" or "required": every choice calls the first
                    function tool, or with {"type": "function", "function": {"name": ...}} the named
                    one, with arguments built from its `parameters` schema's required properties
                    (strings "fake <name>", integers 1, numbers 1.5, booleans true, enums' first
                    value...), and finish_reason "tool_calls" (one call per choice, whatever
                    `parallel_tool_calls` says); `tool_choice: "none"` answers text; a tool_choice
                    naming a function not in `tools` is a 400 (param "tool_choice").
                    Streamed: a first delta with the call's index, id, type and function.name
                    (arguments ""), then the arguments in `chunks` pieces
    response_format {"type": "json_object"}: the answer is {"reply": "<the text answer>"};
                    {"type": "json_schema", "json_schema": {"schema": ...}}: a JSON object with
                    the schema's required properties, filled as for tool arguments
    stream          several choices are interleaved chunk by chunk (each chunk carries one choice);
                    the usage chunk (choices: []) comes last when stream_options.include_usage

Switches:

    latency      seconds to wait before answering
    status       answer with this HTTP error status and an OpenAI error body
    malformed    "not_json" (a 200 that is not JSON), "nan" (a 200, or a stream's usage, whose
                 JSON carries NaN, which Python's parser takes but JSON has no room for),
                 "no_choices", or "bad_chunk" (a stream whose third event is JSON but not an object)
    reply        the answer's text (default: "Echo: <last user message>"); it is also the content of a
                 JSON-mode answer, as it is; it does not stop a tool call
    fail_times   apply `status`/`malformed` to the next N requests only
    chunks       number of chunks a streamed answer is split into
    chunk_delay  seconds between streamed chunks
    break_after  cut a stream's connection after this many chunks
    stall_after  stop sending (but keep the connection open) after this many chunks
    no_usage     never send a stream's usage chunk, even when asked (as some servers do)
    reject_params  a list of top-level parameter names: a request carrying any of them is answered 400
                 in OpenAI's error shape, {"error": {"message", "type": "invalid_request_error",
                 "param": <the name>, "code": "unsupported_parameter"}} (for passthrough of upstream 4xx)

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
import re
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
    "reject_params": None,
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


class FakeBadRequest(Exception):
    """A request the fake upstream answers 400, as OpenAI would."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message, self.param, self.code = message, param, code

    def body(self) -> dict[str, Any]:
        return {
            "error": {"message": self.message, "type": "invalid_request_error", "param": self.param, "code": self.code}
        }


def message_text(content: Any) -> str:
    """A message's text: the string itself, or its text parts joined by spaces."""
    if isinstance(content, list):
        return " ".join(
            str(part.get("text") or "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return str(content or "")


def _messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    messages = request.get("messages")
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


def default_reply(request: dict[str, Any]) -> str:
    messages = _messages(request)
    if messages and messages[-1].get("role") == "tool":
        return f"Tool result: {message_text(messages[-1].get('content'))}"
    users = [m for m in messages if m.get("role") == "user"]
    last = message_text(users[-1].get("content")) if users else ""
    return f"Echo: {last}"


def schema_value(schema: Any, name: str, defs: dict[str, Any], depth: int = 0) -> Any:
    """A simple value that a JSON schema accepts: objects get their required properties only."""
    if not isinstance(schema, dict) or depth > 8:
        return f"fake {name}"
    if isinstance(schema.get("$ref"), str):
        target = defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
        return schema_value({**target, **{k: v for k, v in schema.items() if k != "$ref"}}, name, defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if not (isinstance(o, dict) and o.get("type") == "null")]
        if options:
            return schema_value(options[0], name, defs, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        return {key: schema_value(properties.get(key), key, defs, depth + 1) for key in schema.get("required") or []}
    if kind == "array":
        return [schema_value(schema.get("items"), name, defs, depth + 1)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return f"fake {name}"


def value_for_schema(schema: Any) -> Any:
    defs = {}
    if isinstance(schema, dict):
        defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    return schema_value(schema if schema is not None else {"type": "object"}, "value", defs)


def chosen_tool(request: dict[str, Any]) -> dict[str, Any] | None:
    """The function the answer calls, or None for a text answer."""
    tools = request.get("tools")
    choice = request.get("tool_choice")
    messages = _messages(request)
    if not isinstance(tools, list) or not tools or choice == "none":
        return None
    if messages and messages[-1].get("role") == "tool":
        return None
    functions = [
        t["function"]
        for t in tools
        if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict)
    ]
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        name = choice["function"].get("name")
        named = [f for f in functions if f.get("name") == name]
        if not named:
            raise FakeBadRequest(
                f"Invalid value for 'tool_choice': no function named '{name}' in tools.", "tool_choice"
            )
        return named[0]
    return functions[0] if functions else None


def _json_mode(request: dict[str, Any]) -> dict[str, Any] | None:
    response_format = request.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        return response_format
    return None


def _content(request: dict[str, Any], text: str, literal: bool) -> str:
    response_format = _json_mode(request)
    if literal or response_format is None:
        return text
    if response_format["type"] == "json_object":
        return json.dumps({"reply": text})
    json_schema = response_format.get("json_schema")
    return json.dumps(value_for_schema(json_schema.get("schema") if isinstance(json_schema, dict) else None))


def token_logprobs(text: str, top: int) -> list[dict[str, Any]]:
    """Plausible per-token logprobs: words with their leading spaces as tokens, alternatives less likely."""
    entries = []
    for number, token in enumerate(re.findall(r"\s*\S+|\s+", text)):
        logprob = round(-0.01 - 0.1 * (number % 5), 4)
        alternatives = [token] + [f"{token}~{k}" for k in range(1, top)]
        entries.append(
            {
                "token": token,
                "logprob": logprob,
                "bytes": list(token.encode()),
                "top_logprobs": [
                    {"token": t, "logprob": round(logprob - 1.5 * k, 4), "bytes": list(t.encode())}
                    for k, t in enumerate(alternatives[:top])
                ],
            }
        )
    return entries


def _top(request: dict[str, Any]) -> int:
    top = request.get("top_logprobs")
    return top if isinstance(top, int) and top > 0 else 0


def completion_choices(request: dict[str, Any], reply: str, *, literal: bool = False) -> list[dict[str, Any]]:
    """The answer's choices: `n` of them, each a text (or JSON) answer or a tool call."""
    n = request.get("n")
    n = n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1
    tool = chosen_tool(request)
    choices = []
    for index in range(n):
        if tool is not None:
            arguments = json.dumps(value_for_schema(tool.get("parameters")))
            call = {
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {"name": tool.get("name"), "arguments": arguments},
            }
            message = {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None}
            logprobs = {"content": [], "refusal": None} if request.get("logprobs") else None
            choices.append({"index": index, "message": message, "logprobs": logprobs, "finish_reason": "tool_calls"})
            continue
        content = _content(request, reply + (f" ({index + 1})" if index else ""), literal)
        logprobs = (
            {"content": token_logprobs(content, _top(request)), "refusal": None} if request.get("logprobs") else None
        )
        message = {"role": "assistant", "content": content, "refusal": None}
        choices.append({"index": index, "message": message, "logprobs": logprobs, "finish_reason": "stop"})
    return choices


def _choice_tokens(choice: dict[str, Any]) -> int:
    message = choice["message"]
    if message.get("tool_calls"):
        return sum(_words(c["function"]["arguments"]) for c in message["tool_calls"])
    return _words(message.get("content") or "")


def completion_body(request: dict[str, Any], reply: str, model: str, *, literal: bool = False) -> dict[str, Any]:
    """A chat completion with a few fields haruchat has no column for, to prove they survive.

    `literal`: the reply is the `reply` switch's, sent as it is even in JSON mode."""
    prompt_tokens = sum(_words(message_text(m.get("content"))) for m in _messages(request))
    choices = completion_choices(request, reply, literal=literal)
    completion_tokens = sum(_choice_tokens(c) for c in choices)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model") or model,
        "system_fingerprint": "fp_fake_upstream",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    }


def stream_deltas(choice: dict[str, Any], pieces: int, logprobs: bool, top: int) -> list[dict[str, Any]]:
    """One choice's streamed chunks' `choices[0]`, in OpenAI's shapes."""
    index, message = choice["index"], choice["message"]
    extra = {"logprobs": None} if logprobs else {}
    if message.get("tool_calls"):
        deltas = []
        for number, call in enumerate(message["tool_calls"]):
            head = {"index": number, "id": call["id"], "type": "function"}
            head["function"] = {"name": call["function"]["name"], "arguments": ""}
            delta = (
                {"role": "assistant", "content": None, "tool_calls": [head]} if number == 0 else {"tool_calls": [head]}
            )
            deltas.append({"index": index, "delta": delta, **extra, "finish_reason": None})
            deltas += [
                {
                    "index": index,
                    "delta": {"tool_calls": [{"index": number, "function": {"arguments": piece}}]},
                    **extra,
                    "finish_reason": None,
                }
                for piece in _split(call["function"]["arguments"], pieces)
            ]
    else:
        deltas = [{"index": index, "delta": {"role": "assistant", "content": ""}, **extra, "finish_reason": None}]
        for piece in _split(message["content"] or "", pieces):
            chunk: dict[str, Any] = {"index": index, "delta": {"content": piece}}
            if logprobs:
                chunk["logprobs"] = {"content": token_logprobs(piece, top), "refusal": None}
            deltas.append({**chunk, "finish_reason": None})
    return [*deltas, {"index": index, "delta": {}, **extra, "finish_reason": choice["finish_reason"]}]


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
        rejected = [name for name in switches["reject_params"] or [] if name in request]
        literal = switches["reply"] is not None
        reply = switches["reply"] if literal else default_reply(request)
        try:
            if rejected:
                raise FakeBadRequest(
                    f"Unsupported parameter: '{rejected[0]}' is not supported with this model.",
                    rejected[0],
                    "unsupported_parameter",
                )
            full = completion_body(request, reply, switches["model"], literal=literal)
        except FakeBadRequest as refusal:
            await _answer(send, exchange, 400, refusal.body())
            return
        if malformed == "not_json":
            await _answer_text(send, exchange, 200, "<html>this is not json</html>", b"text/html")
            return
        if malformed == "nan" and not request.get("stream"):
            await _answer(send, exchange, 200, {**full, "score": math.nan})
            return
        if malformed == "no_choices":
            await _answer(send, exchange, 200, {"id": "chatcmpl-broken", "object": "chat.completion", "created": 0})
            return
        if request.get("stream"):
            await self.stream(send, exchange, request, full, {**switches, "malformed": malformed})
            return
        await _answer(send, exchange, 200, full)

    async def stream(
        self, send: Any, exchange: Exchange, request: dict[str, Any], full: dict[str, Any], switches: dict[str, Any]
    ) -> None:
        """Stream the completion `full` as Server-Sent Events: each choice in `chunks` pieces, choices interleaved."""
        pieces = max(int(switches["chunks"]), 1)
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
        logprobs = bool(request.get("logprobs"))
        per_choice = [stream_deltas(choice, pieces, logprobs, _top(request)) for choice in full["choices"]]
        events = [
            {**base, "choices": [deltas[number]]}
            for number in range(max(len(d) for d in per_choice))
            for deltas in per_choice
            if number < len(deltas)
        ]
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
