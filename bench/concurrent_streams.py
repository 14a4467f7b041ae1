"""How many open SSE streams one uvicorn process of haruchat holds: N streamed
/v1 calls at once against a paced fake upstream, compared with the same N
straight to the upstream, in one run.

    .venv/bin/python -m bench.concurrent_streams [--steps 100 500 1000] [--chunks 20] [--pace 0.5]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_streams] [--write docs/benchmarks.md]

For each step: errors (non-200, an error event, no [DONE]), stalls (a gap
between chunks over 10x the pacing), the longest gap, time to the first
chunk, the server's memory per open stream, and the peak number of
PostgreSQL connections while the streams wait on the model (the pool gives
a connection only for each database step, never for the wait).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp
import psycopg

from bench.gateway_overhead import BIN, REPO, configure_upstream, free_port, setup_haruchat, wait_for_port

BODY = {"model": "fake-model", "messages": [{"role": "user", "content": "Tell me a long story."}], "stream": True}


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def ensure_database(url: str) -> None:
    """Create the benchmark's database if it is missing (PostgreSQL)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def one_stream(session: aiohttp.ClientSession, url: str, headers: dict, delay: float) -> dict:
    await asyncio.sleep(delay)
    started = time.perf_counter()
    arrivals: list[float] = []
    try:
        async with session.post(url, json=BODY, headers=headers) as response:
            if response.status != 200:
                return {"error": f"HTTP {response.status}"}
            done = False
            async for line in response.content:
                if line.startswith(b"data: [DONE]"):
                    done = True
                elif line.startswith(b"data: "):
                    if b'"error"' in line[:20]:
                        return {"error": "error event"}
                    arrivals.append(time.perf_counter())
            if not done:
                return {"error": "no [DONE]"}
    except (aiohttp.ClientError, TimeoutError) as exc:
        return {"error": type(exc).__name__}
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    return {"first": arrivals[0] - started if arrivals else None, "max_gap": max(gaps, default=0.0)}


async def poll(database_url: str, pid: int | None, stop: asyncio.Event, peaks: dict) -> None:
    """Sample PostgreSQL connections and the server's memory every 100 ms while the step runs."""
    connection = await psycopg.AsyncConnection.connect(database_url, autocommit=True) if database_url else None
    try:
        while not stop.is_set():
            if connection is not None:
                row = await (
                    await connection.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                ).fetchone()
                peaks["connections"] = max(peaks.get("connections", 0), row[0])
            if pid is not None:
                peaks["rss"] = max(peaks.get("rss", 0.0), rss_mb(pid))
            await asyncio.sleep(0.1)
    finally:
        if connection is not None:
            await connection.close()


async def step(url: str, headers: dict, n: int, ramp: float, database_url: str, pid: int | None) -> dict:
    stop, peaks = asyncio.Event(), {}
    poller = asyncio.create_task(poll(database_url, pid, stop, peaks))
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(*(one_stream(session, url, headers, ramp * i / n) for i in range(n)))
    stop.set()
    await poller
    return {"results": results, **peaks}


def row(name: str, n: int, outcome: dict, pace: float, idle_rss: float | None) -> str:
    results = outcome["results"]
    errors = [r["error"] for r in results if "error" in r]
    ok = [r for r in results if "error" not in r]
    stalls = sum(1 for r in ok if r["max_gap"] > 10 * pace)
    firsts = sorted(r["first"] * 1000 for r in ok if r["first"] is not None) or [0.0]
    max_gap = max((r["max_gap"] for r in ok), default=0.0) * 1000
    p99 = firsts[min(int(0.99 * len(firsts)), len(firsts) - 1)]
    if idle_rss is not None and "rss" in outcome:
        memory = f"{outcome['rss']:.0f} | {(outcome['rss'] - idle_rss) * 1024 / n:.0f}"
    else:
        memory = "- | -"
    error_text = f"{len(errors)}" + (f" ({', '.join(sorted(set(errors)))})" if errors else "")
    return (
        f"| {name} | {n} | {error_text} | {stalls} | {max_gap:.0f} | {statistics.median(firsts):.0f} | {p99:.0f} "
        f"| {memory} | {outcome.get('connections', '-')} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--chunks", type=int, default=20, help="chunks per streamed answer")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between chunks")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which a step's streams open")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_streams")
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()
    raise_fd_limit()
    if args.database_url:
        ensure_database(args.database_url)

    upstream_port = free_port()
    upstream = subprocess.Popen(
        [str(BIN / "python"), "-m", "bench.fake_upstream", "--port", str(upstream_port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(upstream_port, upstream)
    configure_upstream(upstream_port, chunks=args.chunks, chunk_delay=args.pace)
    server, port, key = setup_haruchat(args, upstream_port, tempfile.mkdtemp(prefix="haruchat-streams-"))
    lines = [
        "| path | streams | errors | stalls | longest gap ms | first chunk p50 ms | p99 ms "
        "| server RSS MB | KB per stream | peak DB connections |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    try:
        time.sleep(1)
        idle_rss = rss_mb(server.pid)
        for n in args.steps:
            for name, url, headers, pid in (
                ("direct to the upstream", f"http://127.0.0.1:{upstream_port}/v1/chat/completions", {}, None),
                ("through haruchat /v1", f"http://127.0.0.1:{port}/v1/chat/completions",
                 {"Authorization": f"Bearer {key}"}, server.pid),
            ):  # fmt: skip
                database_url = args.database_url if pid is not None else ""
                outcome = asyncio.run(step(url, headers, n, args.ramp, database_url, pid))
                lines.append(row(name, n, outcome, args.pace, idle_rss if pid is not None else None))
                print(lines[-1], flush=True)
    finally:
        server.terminate()
        upstream.terminate()
    if args.write:
        memory = f"{int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        database = "PostgreSQL" if args.database_url else "SQLite"
        header = (
            f"\n## Concurrent streams — {dt.date.today().isoformat()}\n\n"
            f"Machine: {os.cpu_count()} cores, {memory}, {platform.python_implementation()} "
            f"{platform.python_version()}, {database}, one uvicorn process; the client, the fake upstream and "
            f"PostgreSQL share the machine. Each answer is {args.chunks} chunks {args.pace} s apart; a stall is a "
            f"gap over {10 * args.pace:.0f} s. Command:\n\n"
            f"```sh\n.venv/bin/python -m bench.concurrent_streams {' '.join(sys.argv[1:])}\n```\n\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
