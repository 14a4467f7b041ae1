"""How many open SSE streams one uvicorn process of haruchat holds with no
stall and no error.

    .venv/bin/python -m bench.concurrent_streams [--steps 100 250 500 1000 1500]
        [--chunks 20 --chunk-delay 0.5] [--ramp 2] [--users 10] [--target both|haruchat|upstream]
        [--database-url postgres://postgres@127.0.0.1:5432/bench_streams] [--pool-size N] [--db-threads N]
        [--profile DIR] [--write FILE]

The fake upstream paces every answer (20 chunks 0.5 s apart by default), so
each stream stays open about ten seconds and, once the ramp is over, all N
are open at once. Each step opens N streams over `--ramp` seconds and times
every event's arrival. A *stall* is a gap between two events of one stream
longer than 10x the pacing; an *error* is a non-200, an error event, a
connection failure, or a stream that does not end with `data: [DONE]`.

The same client and the same N also go straight to the fake upstream
(`--target both`, the default): the zero-overhead comparison, and a check
that the fake upstream (or the client) is not itself the limit.

While a step runs the bench samples, every ~100 ms, the server's RSS and
thread count (/proc) and PostgreSQL's connections to the bench database
(pg_stat_activity): the connections must not grow with N, since no stream
may hold one while it waits on the model.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import http.client
import importlib.util
import json
import os
import platform
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg

from bench.gateway_overhead import BIN, REPO, free_port, wait_for_port

STALL_FACTOR = 10  # a gap over this many times the pacing is a stall
SAMPLE_SECONDS = 0.1
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench_streams"


@dataclass
class StreamResult:
    """What one stream saw: when it started, when each event arrived, how it ended."""

    started: float
    status: int = 0
    times: list[float] = field(default_factory=list)
    done: bool = False
    error: str | None = None  # "status", "error_event", "connection", "timeout", "no_done"
    detail: str = ""  # the error event's message, or the exception
    ended: float = 0.0

    @property
    def first_chunk(self) -> float | None:
        return self.times[0] - self.started if self.times else None

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.times, self.times[1:], strict=False)]


@dataclass
class Samples:
    """Peaks of what the sampler saw during one step."""

    rss_kb: int = 0
    threads: int = 0
    db_total: int = 0
    db_busy: int = 0  # not idle: a query running or a transaction open
    upstream_conns: int = 0  # established TCP connections to the upstream's port
    count: int = 0


@dataclass
class Target:
    name: str
    port: int
    headers: dict[str, list[str]]  # round-robin per stream, e.g. several members' API keys
    pid: int


def http_parser() -> str:
    """The HTTP implementation uvicorn picks by itself: httptools when installed, else h11."""
    return "httptools" if importlib.util.find_spec("httptools") else "h11"


def proc_status(pid: int) -> tuple[int, int]:
    """(VmRSS in kB, thread count) of a process."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else float("nan")


def raise_fd_limit() -> int:
    """Every stream costs a socket here and two in haruchat; children inherit this limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def admin_url(database_url: str) -> str:
    """The same server's `postgres` database: the sampler's own connection must not count."""
    return urlunsplit(urlsplit(database_url)._replace(path="/postgres"))


def ensure_database(database_url: str) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(admin_url(database_url), autocommit=True) as connection:
        if not connection.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            connection.execute(f'create database "{name}"')


def post_json(port: int, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status not in (200, 201):
        raise RuntimeError(f"{path}: HTTP {response.status}: {data[:300]!r}")
    return json.loads(data)


def pace_upstream(port: int, args: argparse.Namespace) -> None:
    """Reset the fake upstream (it keeps every exchange in memory) and pace it.

    The reply is `chunks` five-character words, so it splits into exactly
    `chunks` pieces (the default "Echo: ..." reply is too short to).
    """
    post_json(port, "/_control/reset", {})
    switches = {"chunks": args.chunks, "chunk_delay": args.chunk_delay, "reply": "tick " * args.chunks}
    post_json(port, "/_control", switches)


def start_haruchat(args: argparse.Namespace, upstream_port: int, workdir: str) -> tuple[subprocess.Popen, int]:
    """One uvicorn process on PostgreSQL, pointed at the fake upstream (as in gateway_overhead)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        HARUCHAT_VAR_DIR=workdir,
        # Tagged, so the sampler counts this server's connections only (not another bench's on the same database).
        DATABASE_URL=f"{args.database_url}{'&' if '?' in args.database_url else '?'}application_name={args.app_name}",
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1",
        HARUCHAT_LLM_MODEL="fake-model",
        HARUCHAT_DAILY_LIMIT="1000000000",
        HARUCHAT_LOG_LEVEL="WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    if args.pool_size is not None:
        env["HARUCHAT_DB_POOL_SIZE"] = str(args.pool_size)
    if args.db_threads is not None:
        env["HARUCHAT_DB_THREADS"] = str(args.db_threads)
    subprocess.run([str(BIN / "python"), "backend/manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log", "--backlog", "4096"],
        cwd=REPO, env=env,
    )  # fmt: skip
    wait_for_port(port, server)
    return server, port


def create_keys(port: int, users: int) -> list[str]:
    """API keys of `users` members, made through the API; streams spread over them like real traffic."""
    keys = []
    for _ in range(users):
        email = f"bench-{secrets.token_hex(4)}@example.com"
        signup = {"email": email, "password": "bench pass phrase", "nickname": "b"}
        access = post_json(port, "/api/auth/signup", signup)["access"]
        created = post_json(port, "/api/auth/api-keys", {"name": "bench"}, {"Authorization": f"Bearer {access}"})
        keys.append(created["secret"])
    return keys


async def one_stream(
    session: aiohttp.ClientSession, target: Target, index: int, start_at: float, timeout: float
) -> StreamResult:
    """Open one stream at `start_at` and time each `data:` event until [DONE]."""
    await asyncio.sleep(max(start_at - time.perf_counter(), 0))
    headers = {name: values[index % len(values)] for name, values in target.headers.items()}
    body = {
        "model": "fake-model",
        "messages": [{"role": "user", "content": f"Stream number {index}, please."}],
        "stream": True,
    }
    result = StreamResult(started=time.perf_counter())
    try:
        async with asyncio.timeout(timeout):
            url = f"http://127.0.0.1:{target.port}/v1/chat/completions"
            async with session.post(url, json=body, headers=headers) as response:
                result.status = response.status
                if response.status != 200:
                    result.error = "status"
                    await response.read()
                    return result
                async for raw in response.content:  # one line at a time
                    line = raw.strip()
                    if not line.startswith(b"data:"):
                        continue
                    result.times.append(time.perf_counter())
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        result.done = True
                        break
                    if b'"error"' in data and "error" in (event := json.loads(data)):
                        result.error, result.detail = "error_event", str(event["error"].get("message"))[:200]
        if not result.done and result.error is None:
            result.error = "no_done"
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        result.error = result.error or ("timeout" if isinstance(exc, TimeoutError) else "connection")
        result.detail = result.detail or repr(exc)[:200]
    finally:
        result.ended = time.perf_counter()
    return result


def established_to(port: int) -> int:
    """Established loopback TCP connections whose remote end is `port` (IPv4)."""
    wanted = f":{port:04X}"
    with open("/proc/net/tcp") as table:
        return sum(1 for line in table if (f := line.split())[2].endswith(wanted) and f[3] == "01")


async def sampler(
    pid: int,
    database_url: str | None,
    samples: Samples,
    stop: asyncio.Event,
    limit: float,
    upstream_port: int,
    tag: str,
) -> None:
    """Record the server's peaks every ~100 ms until `stop`, for at most `limit` seconds."""
    name = urlsplit(database_url).path.lstrip("/") if database_url else ""
    connection = await psycopg.AsyncConnection.connect(admin_url(database_url), autocommit=True) if name else None
    try:
        deadline = time.monotonic() + limit
        while not stop.is_set() and time.monotonic() < deadline:
            rss, threads = proc_status(pid)
            samples.rss_kb, samples.threads = max(samples.rss_kb, rss), max(samples.threads, threads)
            if connection is not None:
                row = await (
                    await connection.execute(
                        "select count(*), count(*) filter (where state <> 'idle') from pg_stat_activity"
                        " where datname = %s and application_name = %s",
                        (name, tag),  # only this server's connections
                    )
                ).fetchone()
                samples.db_total, samples.db_busy = max(samples.db_total, row[0]), max(samples.db_busy, row[1])
            if upstream_port:
                samples.upstream_conns = max(samples.upstream_conns, established_to(upstream_port))
            samples.count += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
    finally:
        if connection is not None:
            await connection.close()


async def run_step(target: Target, n: int, args: argparse.Namespace, database_url: str | None) -> dict[str, Any]:
    """Open `n` streams over `args.ramp` seconds against one target and summarize them."""
    stream_seconds = (args.chunks + 3) * args.chunk_delay
    timeout = stream_seconds + args.ramp + 60
    idle_rss, idle_threads = proc_status(target.pid)
    samples = Samples()
    stop = asyncio.Event()
    sampling = asyncio.create_task(
        sampler(
            target.pid,
            database_url,
            samples,
            stop,
            timeout + 30,
            args.upstream_port if database_url else 0,
            args.app_name,
        )
    )
    cpu_before, client_before, wall_before = proc_cpu_seconds(target.pid), time.process_time(), time.perf_counter()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        begin = time.perf_counter() + 0.2
        tasks = [
            asyncio.create_task(one_stream(session, target, i, begin + args.ramp * i / n, timeout)) for i in range(n)
        ]
        results = await asyncio.gather(*tasks)
    wall = time.perf_counter() - wall_before
    server_cpu = proc_cpu_seconds(target.pid) - cpu_before
    client_cpu = time.process_time() - client_before
    stop.set()
    await asyncio.wait_for(sampling, 10)
    limit = STALL_FACTOR * args.chunk_delay
    errors: dict[str, int] = {}
    for r in results:
        if r.error:
            if r.error not in errors:
                print(f"  first {r.error} ({target.name}, N={n}): {r.detail}", flush=True)
            errors[r.error] = errors.get(r.error, 0) + 1
    first = [r.first_chunk * 1000 for r in results if r.first_chunk is not None]
    stalled = [r for r in results if any(g > limit for g in r.gaps)]
    # Where the stalls are: only the last gap (the answer is whole; [DONE] waits on the ledger) or mid-stream.
    at_end = sum(1 for r in stalled if all(g <= limit for g in r.gaps[:-1]))
    # The most streams open at one moment: all N, unless some ended before the last began.
    edges = sorted([(r.started, 1) for r in results] + [(r.ended, -1) for r in results])
    open_now = peak_open = 0
    for _, delta in edges:
        open_now += delta
        peak_open = max(peak_open, open_now)
    # How fast the server got streams going: N over the time from the first start to the last first chunk.
    firsts = [r.times[0] for r in results if r.times]
    started_per_s = len(firsts) / (max(firsts) - min(r.started for r in results)) if firsts else 0.0
    return {
        "started_per_s": started_per_s,
        "target": target.name,
        "n": n,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "stalls": len(stalled),
        "stalls_at_end": at_end,
        "max_gap_ms": max((max(r.gaps, default=0) for r in results), default=0) * 1000,
        "first_p50": percentile(first, 0.5),
        "first_p99": percentile(first, 0.99),
        "peak_open": peak_open,
        "idle_rss_mb": idle_rss / 1024,
        "idle_threads": idle_threads,
        "rss_mb": samples.rss_kb / 1024,
        "threads": samples.threads,
        "db_total": samples.db_total if database_url else None,
        "db_busy": samples.db_busy if database_url else None,
        "upstream_conns": samples.upstream_conns if database_url else None,
        "server_cpu": server_cpu / wall,
        "client_cpu": client_cpu / wall,
        "wall": wall,
    }


def table(rows: list[dict[str, Any]], baseline_mb: dict[str, float]) -> list[str]:
    lines = [
        "| target | N | peak open | errors | stalls (before [DONE]) | max gap ms | first chunk p50 / p99 ms | started/s"
        " | RSS MB | MB per stream | threads | peak DB conns (busy) | upstream conns | server CPU | client CPU |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["error_kinds"].items()))
        per_stream = (r["rss_mb"] - baseline_mb[r["target"]]) / r["n"]
        db = f"{r['db_total']} ({r['db_busy']})" if r["db_total"] is not None else "n/a"
        lines.append(
            f"| {r['target']} | {r['n']} | {r['peak_open']} | {r['errors']}{f' ({kinds})' if kinds else ''}"
            f" | {r['stalls']} ({r['stalls_at_end']}) | {r['max_gap_ms']:.0f}"
            f" | {r['first_p50']:.0f} / {r['first_p99']:.0f} | {r['started_per_s']:.0f}"
            f" | {r['rss_mb']:.0f} | {per_stream:.3f}"
            f" | {r['threads']} | {db} | {r['upstream_conns'] if r['upstream_conns'] is not None else 'n/a'}"
            f" | {r['server_cpu']:.0%} | {r['client_cpu']:.0%} |"
        )
    return lines


async def warm_up(target: Target, args: argparse.Namespace) -> None:
    """A few streams first, so lazy imports, pools and caches count as idle, not per stream."""
    fast = argparse.Namespace(**{**vars(args), "ramp": 0.2})
    for _ in range(2):
        await run_step(target, 10, fast, None)


@contextlib.contextmanager
def profiled(pid: int, directory: str | None, label: str, seconds: float):
    """py-spy the server for the step, when --profile names a directory.

    Collapsed stacks (text: grep them, or feed them to a flame graph tool),
    idle threads included: the question is as much where streams *wait* as
    where the CPU goes.
    """
    if not directory:
        yield
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    out = Path(directory) / f"{label}.txt"
    spy = subprocess.Popen(
        [str(BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "50",
         "--format", "raw", "--idle", "--threads", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield
    finally:
        try:
            spy.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            spy.terminate()


async def run(args: argparse.Namespace, upstream: subprocess.Popen, upstream_port: int, server, port) -> list[str]:
    targets = []
    if args.target in ("both", "upstream"):
        targets.append(Target("fake upstream direct", upstream_port, {}, upstream.pid))
    if server is not None:
        keys = create_keys(port, args.users)
        targets.append(Target("haruchat /v1", port, {"Authorization": [f"Bearer {k}" for k in keys]}, server.pid))
    pace_upstream(upstream_port, args)
    baseline: dict[str, float] = {}
    for target in targets:
        await warm_up(target, args)
        pace_upstream(upstream_port, args)
        baseline[target.name] = proc_status(target.pid)[0] / 1024
    rows: list[dict[str, Any]] = []
    for n in args.steps:
        for target in targets:  # interleaved, so machine noise hits both alike
            pace_upstream(upstream_port, args)
            await asyncio.sleep(args.settle)
            database_url = args.database_url if target.name.startswith("haruchat") else None
            label = f"{target.name.split()[0]}-{n}"
            with profiled(target.pid, args.profile, label, args.ramp + (args.chunks + 3) * args.chunk_delay):
                row = await run_step(target, n, args, database_url)
            rows.append(row)
            print(table([row], baseline)[-1], flush=True)
    lines = [f"Idle RSS after warm-up: {', '.join(f'{k} {v:.0f} MB' for k, v in baseline.items())}.", ""]
    return lines + table(rows, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[100, 250, 500, 1000, 1500])
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per answer")
    parser.add_argument("--chunk-delay", type=float, default=0.5, help="seconds between chunks (the pacing)")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which a step's streams open")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of quiet before each step")
    parser.add_argument("--users", type=int, default=10, help="members (API keys) the streams are spread over")
    parser.add_argument("--target", choices=["both", "haruchat", "upstream"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--pool-size", type=int, help="HARUCHAT_DB_POOL_SIZE (default: the settings' default)")
    parser.add_argument("--db-threads", type=int, help="HARUCHAT_DB_THREADS (default: the settings' default)")
    parser.add_argument("--profile", help="py-spy each step's server into this directory (collapsed stacks)")
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()
    fd_limit = raise_fd_limit()
    args.app_name = f"haruchat-streams-{secrets.token_hex(3)}"

    upstream_port = args.upstream_port = free_port()
    upstream = subprocess.Popen(
        [str(BIN / "python"), "-m", "testing.fake_upstream", "--port", str(upstream_port)],
        cwd=REPO / "backend", stdout=subprocess.DEVNULL,
    )  # fmt: skip
    server = port = None
    try:
        wait_for_port(upstream_port, upstream)
        if args.target in ("both", "haruchat"):
            ensure_database(args.database_url)
            server, port = start_haruchat(args, upstream_port, tempfile.mkdtemp(prefix="haruchat-streams-"))
        lines = asyncio.run(run(args, upstream, upstream_port, server, port))
    finally:
        for process in (server, upstream):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
    print("\n" + "\n".join(lines), flush=True)
    if args.write:
        cores, memory = os.cpu_count(), ""
        with contextlib.suppress(OSError):
            memory = f", {int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        stream_seconds = (args.chunks + 3) * args.chunk_delay
        header = (
            f"\n## Concurrent streams — {dt.date.today().isoformat()}\n\n"
            f"Machine: {cores} cores{memory}, {platform.python_implementation()} {platform.python_version()}, "
            f"PostgreSQL, one uvicorn process ({http_parser()}, asyncio loop), fd limit {fd_limit}; the bench client "
            f"(aiohttp) and the fake upstream share the same cores. Each answer is {args.chunks} chunks "
            f"{args.chunk_delay} s apart (~{stream_seconds:.1f} s a stream); N streams open over {args.ramp} s, "
            f"spread over {args.users} members' API keys. A stall is a gap over {STALL_FACTOR}x the pacing "
            f"(in brackets: those whose only long gap is the last one, before [DONE]); MB per stream is "
            f"(peak RSS - idle RSS after warm-up) / N; DB conns are this server's pg_stat_activity rows "
            f"(tagged by application_name; busy: not idle), sampled every {SAMPLE_SECONDS * 1000:.0f} ms. Command:\n\n"
            f"```sh\n.venv/bin/python -m bench.concurrent_streams {' '.join(sys.argv[1:])}\n```\n\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
