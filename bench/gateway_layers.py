"""Where a gateway call's time goes, layer by layer: the same request to the fake
upstream (a) directly, (a1) through a bare ASGI app that forwards it with
aiohttp (the least any Python gateway adds: one more HTTP hop), (a2) through
the same bare app forwarding it with haruchat's provider, i.e. the `openai`
SDK, (b) through haruchat's bare pass-through view (Django, its middleware,
DRF and the same provider call) and (c) through haruchat's /v1 (the key, the
quota and the record added). Interleaved rounds in one run, plain calls at
concurrency 1.

Beside them, (a3): the bare app with aiohttp doing haruchat's own work, the
same services /v1 runs (the key, then counting and recording the request,
then recording the answer, each in a database thread), with neither
Django's request handling, DRF nor the SDK, and no check of the body: about
the least a gateway in Python adds that records both sides of a call
durably before it answers.

    .venv/bin/python -m bench.gateway_layers [--rounds 6] [--requests 150] [--database-url postgres://...]

Prints p50/p99 latency and the serving process's CPU milliseconds per call
for each path, and what each layer adds to the one before it (a3 against
a1). The bare app (`app` below) exists only for this benchmark.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from typing import Any

from bench import gateway_overhead as overhead

_aiohttp_session: Any = None


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _forwarded(request: dict[str, Any]) -> dict[str, Any]:
    global _aiohttp_session
    import aiohttp

    if _aiohttp_session is None:
        _aiohttp_session = aiohttp.ClientSession()
    url = os.environ["HARUCHAT_LLM_BASE_URL"] + "/chat/completions"
    async with _aiohttp_session.post(url, json=request) as response:
        return json.loads(await response.read())


async def _recorded(scope: dict[str, Any], request: dict[str, Any]) -> dict[str, Any] | None:
    """haruchat's own work around the aiohttp call, through the services /v1 uses; None: no such key."""
    from chat.services.calls import call_succeed
    from common.db import in_db, in_db_finishing
    from gateway.services import api_key_authenticate, gateway_call_start

    secret = dict(scope["headers"]).get(b"authorization", b"").decode().removeprefix("Bearer ")
    key = await in_db(api_key_authenticate, secret)
    if key is None:
        return None
    call = await in_db(gateway_call_start, key=key, request=request)
    answer = await _forwarded(call.request)
    await in_db_finishing(call_succeed, call=call, response=answer)
    return answer


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The bare ASGI app: POST /aiohttp, /sdk or /recorded forwards the body to the upstream, answers its JSON."""
    if scope["type"] != "http":
        return
    request = json.loads(await _body(receive))
    status = 200
    if scope["path"] == "/sdk":
        from llm.providers import get_provider

        answer = await get_provider().acomplete(request)
    elif scope["path"] == "/recorded":
        answer = await _recorded(scope, request)
        if answer is None:
            status, answer = 401, {"error": "no such API key"}
    else:
        answer = await _forwarded(request)
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _start_bare_app(upstream_port: int, workdir: str, database_url: str) -> tuple[subprocess.Popen, int]:
    """The bare app on haruchat's database (migrated, with the bench's API key), in a process of its own."""
    env = overhead.haruchat_env(upstream_port, workdir, database_url)
    env.update(PYTHONPATH=str(overhead.REPO / "backend"), DJANGO_SETTINGS_MODULE="config.settings")
    port = overhead.free_port()
    command = [
        str(overhead.BIN / "python"), "-c",
        "import django, uvicorn; django.setup(); "
        f"uvicorn.run('bench.gateway_layers:app', port={port}, log_level='warning', access_log=False)",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=overhead.REPO, env=env)
    overhead.wait_for_port(port, server)
    return server, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=150, help="calls per path per round")
    parser.add_argument("--database-url", default="", help="PostgreSQL for haruchat (default: SQLite)")
    args = parser.parse_args()

    upstream, upstream_port = overhead.start_upstream()
    processes = [upstream]
    try:
        overhead.configure_upstream(upstream_port, chunks=8, chunk_delay=0.0)
        workdir = tempfile.mkdtemp(prefix="haruchat-layers-")
        haruchat, port, key = overhead.setup_haruchat(args, upstream_port, workdir)
        processes.append(haruchat)
        bare, bare_port = _start_bare_app(upstream_port, workdir, args.database_url)
        processes.append(bare)
        bearer = {"Authorization": f"Bearer {key}"}
        paths = {
            "a: direct to the upstream": (upstream_port, "/v1/chat/completions", {}, upstream.pid),
            "a1: bare ASGI app + aiohttp": (bare_port, "/aiohttp", {}, bare.pid),
            "a2: bare ASGI app + openai SDK": (bare_port, "/sdk", {}, bare.pid),
            "b: + Django, middleware, DRF": (port, "/v1/_bench/passthrough", {}, haruchat.pid),
            "c: + key, quota, record (/v1)": (port, "/v1/chat/completions", bearer, haruchat.pid),
            "a3: a1 + key, quota, record": (bare_port, "/recorded", bearer, bare.pid),
        }  # fmt: skip
        body = {**overhead.BODY, "stream": False}
        overhead.warm_up(paths, body)
        rounds: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, (p, path, headers, pid) in paths.items():
                rounds[name].append(overhead.run_load(p, path, headers, body, args.requests, 1, pid))
        where = "PostgreSQL" if args.database_url else "SQLite"
        print(f"plain calls, concurrency 1, median of {args.rounds} rounds of {args.requests} ({where})")
        print("| path | p50 ms | p99 ms | server CPU ms/call | added p50 ms | added CPU ms |")
        print("|---|---|---|---|---|---|")
        summaries = [(name, overhead.summarize(results, "total")) for name, results in rounds.items()]
        by_name = dict(summaries)
        for i, (name, s) in enumerate(summaries):
            added = "|"
            if i > 0:
                before_name = "a1: bare ASGI app + aiohttp" if name.startswith("a3") else summaries[i - 1][0]
                before = by_name[before_name]
                cpu_before = before["cpu"] if i > 1 else 0.0  # a's CPU is the upstream's, not a gateway's
                added = f"{s['p50'][0] - before['p50'][0]:+.2f} | {s['cpu'] - cpu_before:+.2f}"
            print(f"| {name} | {s['p50'][0]:.2f} | {s['p99'][0]:.2f} | {s['cpu']:.2f} | {added} |")
    finally:
        for process in processes:
            process.terminate()


if __name__ == "__main__":
    main()
