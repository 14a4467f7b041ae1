"""What haruchat adds to a model call: the same request sent (a) straight to the
fake upstream, (b) through a bare pass-through view in haruchat (the same
Django stack and SDK call, no auth, quota or record) and (c) through
haruchat's /v1 gateway (auth, quota, the full record), in interleaved rounds
in one run, so machine noise hits all three alike.

    .venv/bin/python -m bench.gateway_overhead [--rounds 5] [--requests 200] [--concurrency 1 10 100]
        [--stream-requests 20] [--database-url postgres://postgres@127.0.0.1:5432/bench]
        [--write docs/benchmarks.md]

Reports p50/p95/p99 latency per path (median over rounds, with the spread),
the added milliseconds (c - a and c - b) and requests per second; for
streams (64 chunks 20 ms apart) the time to the first chunk and the gap
between chunks. Also the CPU time the serving process spent per call (the
fake upstream's for a, haruchat's for b and c): unlike latency it hardly
moves with machine noise, so c - b in CPU milliseconds is haruchat's own
work per call.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import itertools
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BODY = {"model": "fake-model", "messages": [{"role": "user", "content": "How long is a day?"}], "max_tokens": 16}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited: {process.args}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listening on {port}")


def request(connection: http.client.HTTPConnection, path: str, body: dict, headers: dict) -> tuple[float, float]:
    """One POST; returns (seconds to the first byte, seconds to the end)."""
    started = time.perf_counter()
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    first = response.read(1)
    first_byte = time.perf_counter() - started
    rest = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {(first + rest)[:300]!r}")
    return first_byte, time.perf_counter() - started


def stream_request(connection: http.client.HTTPConnection, path: str, body: dict, headers: dict) -> tuple[float, list]:
    """One streamed POST; returns (seconds to the first chunk, the gaps between chunks in seconds)."""
    started = time.perf_counter()
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {response.read()[:300]!r}")
    arrivals = []
    while line := response.readline():
        if line.startswith(b"data: "):
            arrivals.append(time.perf_counter())
            if line.startswith(b"data: [DONE]"):
                break
    response.read()
    return arrivals[0] - started, [later - earlier for earlier, later in itertools.pairwise(arrivals[:-1])]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load(
    port: int, path: str, headers: dict, body: dict, total: int, concurrency: int, pid: int | None = None
) -> dict:
    """`total` requests over `concurrency` keep-alive connections; latencies in ms, and the
    serving process's (`pid`) CPU milliseconds per call."""
    first_bytes: list[float] = []
    totals: list[float] = []
    gaps: list[float] = []
    per_worker = max(total // concurrency, 1)
    barrier = threading.Barrier(concurrency + 1)

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()
        for _ in range(per_worker):
            if body.get("stream"):
                first, between = stream_request(connection, path, body, headers)
                first_bytes.append(first * 1000)
                gaps.extend(gap * 1000 for gap in between)
                continue
            first, whole = request(connection, path, body, headers)
            first_bytes.append(first * 1000)
            totals.append(whole * 1000)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(pid) if pid else 0.0
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    count = len(totals) or len(first_bytes)
    cpu = (cpu_seconds(pid) - cpu_before) * 1000 / count if pid else float("nan")
    return {
        "total": sorted(totals),
        "first_byte": sorted(first_bytes),
        "gap": sorted(gaps),
        "rps": count / elapsed,
        "cpu": cpu,
    }


def warm_up(paths: dict, body: dict) -> None:
    """A few untimed calls per path first: a process's first calls pay for imports and caches."""
    for port, path, headers, *_ in paths.values():
        run_load(port, path, headers, body, 20, 1)


def percentile(values: list[float], q: float) -> float:
    return values[min(int(q * len(values)), len(values) - 1)]


def summarize(rounds: list[dict], key: str) -> dict:
    out = {}
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        per_round = [percentile(r[key], q) for r in rounds]
        out[name] = (statistics.median(per_round), min(per_round), max(per_round))
    out["rps"] = statistics.median(r["rps"] for r in rounds)
    out["cpu"] = statistics.median(r.get("cpu", float("nan")) for r in rounds)
    return out


def configure_upstream(port: int, **switches: object) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/_control", json.dumps(switches), {"Content-Type": "application/json"})
    connection.getresponse().read()


def start_upstream() -> tuple[subprocess.Popen, int]:
    """The fake upstream in a process of its own, listening on a free port."""
    port = free_port()
    upstream = subprocess.Popen(
        [str(BIN / "python"), "-m", "testing.fake_upstream", "--port", str(port)],
        cwd=REPO / "backend",
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, upstream)
    return upstream, port


def haruchat_env(upstream_port: int, workdir: str, database_url: str = "") -> dict[str, str]:
    """This environment without haruchat's own settings, then haruchat pointed at the fake upstream."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        HARUCHAT_VAR_DIR=workdir,
        DATABASE_URL=database_url,
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1",
        HARUCHAT_LLM_MODEL="fake-model",
        HARUCHAT_DAILY_LIMIT="1000000000",
        HARUCHAT_LOG_LEVEL="WARNING",
        HARUCHAT_BENCH_PASSTHROUGH="true",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    return env


def setup_haruchat(args: argparse.Namespace, upstream_port: int, workdir: str) -> tuple[subprocess.Popen, int, str]:
    env = haruchat_env(upstream_port, workdir, args.database_url or "")
    subprocess.run([str(BIN / "python"), "backend/manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=REPO, env=env,
    )  # fmt: skip
    wait_for_port(port, server)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    signup = {"email": f"bench-{secrets.token_hex(4)}@example.com", "password": "bench pass phrase", "nickname": "b"}
    connection.request("POST", "/api/auth/signup", json.dumps(signup), {"Content-Type": "application/json"})
    access = json.loads(connection.getresponse().read())["access"]
    connection.request(
        "POST", "/api/auth/api-keys", json.dumps({"name": "bench"}),
        {"Content-Type": "application/json", "Authorization": f"Bearer {access}"},
    )  # fmt: skip
    key = json.loads(connection.getresponse().read())["secret"]
    return server, port, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="requests per path per round")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--stream-requests", type=int, default=20, help="streamed requests per path per round")
    parser.add_argument("--database-url", default="", help="PostgreSQL for haruchat (default: SQLite)")
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()

    upstream, upstream_port = start_upstream()
    workdir = tempfile.mkdtemp(prefix="haruchat-bench-")
    server, port, key = setup_haruchat(args, upstream_port, workdir)
    paths = {
        "a: direct to the upstream": (upstream_port, "/v1/chat/completions", {}, upstream.pid),
        "b: haruchat, bare pass-through": (port, "/v1/_bench/passthrough", {}, server.pid),
        "c: through haruchat /v1": (port, "/v1/chat/completions", {"Authorization": f"Bearer {key}"}, server.pid),
    }
    a_name, b_name, c_name = paths
    lines = []
    try:
        for stream in (False, True):
            body = {**BODY, "stream": stream}
            configure_upstream(upstream_port, chunks=64 if stream else 8, chunk_delay=0.02 if stream else 0.0)
            warm_up(paths, {**body, "stream": False})
            for concurrency in args.concurrency:
                total = args.stream_requests if stream else args.requests
                results: dict[str, list[dict]] = {name: [] for name in paths}
                for _ in range(args.rounds):  # interleaved: a, b, c, a, b, c, ...
                    for name, (p, path, headers, pid) in paths.items():
                        results[name].append(run_load(p, path, headers, body, total, concurrency, pid))
                keys = (
                    [("first_byte", "time to first chunk"), ("gap", "gap between chunks")]
                    if stream
                    else [("total", "latency")]
                )
                for key_name, what in keys:
                    summary = {name: summarize(rounds, key_name) for name, rounds in results.items()}
                    a, b, c = summary[a_name], summary[b_name], summary[c_name]
                    title = f"{'Streaming (64 chunks, 20 ms apart)' if stream else 'Plain'}, concurrency {concurrency}"
                    lines.append(f"\n**{title}** ({what}, ms; median of {args.rounds} rounds, [min-max])\n")
                    lines.append("| path | p50 | p95 | p99 | req/s | server CPU ms/call |")
                    lines.append("|---|---|---|---|---|---|")
                    for name, s_ in summary.items():
                        cells = " | ".join(
                            f"{m:.2f} [{lo:.2f}-{hi:.2f}]" for m, lo, hi in (s_["p50"], s_["p95"], s_["p99"])
                        )
                        lines.append(f"| {name} | {cells} | {s_['rps']:.0f} | {s_['cpu']:.2f} |")
                    for label, base in (("c - a", a), ("c - b", b)):
                        added = " | ".join(f"{c[q][0] - base[q][0]:+.2f}" for q in ("p50", "p95", "p99"))
                        cpu = f"{c['cpu'] - base['cpu']:+.2f}" if label == "c - b" else ""
                        lines.append(f"| **added by haruchat ({label})** | {added} | | {cpu} |")
                    print("\n".join(lines[-(len(summary) + 5) :]), flush=True)
    finally:
        server.terminate()
        upstream.terminate()
    if args.write:
        cores, memory = os.cpu_count(), ""
        try:
            memory = f", {int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        except OSError:
            pass
        database = "PostgreSQL" if args.database_url else "SQLite"
        header = (
            f"\n## Gateway overhead — {dt.date.today().isoformat()}\n\n"
            f"Machine: {cores} cores{memory}, {platform.python_implementation()} {platform.python_version()}, "
            f"{database}, one uvicorn process. Command:\n\n"
            f"```sh\n.venv/bin/python -m bench.gateway_overhead {' '.join(sys.argv[1:])}\n```\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
