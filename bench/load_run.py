"""A load run with a real client: locust's members (bench/locustfile.py) sign
up, chat (plain and streamed) and browse their history against one uvicorn
process of haruchat and the fake upstream, for a bounded time.

    python3 -m venv bench/.venv-load && bench/.venv-load/bin/pip install -r bench/requirements-load.txt
    .venv/bin/python -m bench.load_run [--users 30] [--spawn-rate 5] [--duration 60s] [--daily-limit 5]
        [--upstream-latency 0.2] [--database-url postgres://postgres@127.0.0.1:5432/bench_load]
        [--write docs/benchmarks.md]

Prints a Markdown table per request type: requests, failures, p50/p95/p99
and requests per second; a member's 429 once the allowance is spent is
counted apart, as expected behaviour.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.concurrent_streams import ensure_database
from bench.gateway_overhead import BIN, REPO, configure_upstream, free_port, wait_for_port

LOCUST = REPO / "bench" / ".venv-load" / "bin" / "locust"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--daily-limit", type=int, default=5, help="the product default: members run out")
    parser.add_argument("--upstream-latency", type=float, default=0.2, help="seconds the fake model takes")
    parser.add_argument("--database-url", default="", help="PostgreSQL for haruchat (default: SQLite)")
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()
    if not LOCUST.exists():
        sys.exit(f"{LOCUST} is missing: see the install line in this module's docstring.")
    if args.database_url:
        ensure_database(args.database_url)

    workdir = Path(tempfile.mkdtemp(prefix="haruchat-load-"))
    upstream_port = free_port()
    upstream = subprocess.Popen(
        [str(BIN / "python"), "-m", "testing.fake_upstream", "--port", str(upstream_port)],
        cwd=REPO / "backend",
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(upstream_port, upstream)
    configure_upstream(upstream_port, latency=args.upstream_latency, chunks=8, chunk_delay=0.02)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        HARUCHAT_VAR_DIR=str(workdir),
        DATABASE_URL=args.database_url,
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1",
        HARUCHAT_LLM_MODEL="fake-model",
        HARUCHAT_DAILY_LIMIT=str(args.daily_limit),
        HARUCHAT_SIGNUP_MAX_PER_IP="1000000",  # every simulated member signs up from this one address
        HARUCHAT_LOG_LEVEL="ERROR",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    subprocess.run([str(BIN / "python"), "backend/manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=REPO, env=env,
    )  # fmt: skip
    command = [
        str(LOCUST), "-f", "bench/locustfile.py", "--headless", "--only-summary",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", args.duration,
        "--host", f"http://127.0.0.1:{port}", "--csv", str(workdir / "load"),
    ]  # fmt: skip
    try:
        wait_for_port(port, server)
        subprocess.run(command, cwd=REPO, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        server.terminate()
        upstream.terminate()

    lines = [
        "| request | count | failures | p50 ms | p95 ms | p99 ms | req/s |",
        "|---|---|---|---|---|---|---|",
    ]
    with open(workdir / "load_stats.csv") as stats:
        for row in csv.DictReader(stats):
            name = row["Name"] if row["Name"] != "Aggregated" else "**all**"
            lines.append(
                f"| {row['Type']} {name} | {row['Request Count']} | {row['Failure Count']} "
                f"| {row['50%']} | {row['95%']} | {row['99%']} | {float(row['Requests/s']):.1f} |"
            )
    failures = workdir / "load_failures.csv"
    failure_rows = list(csv.DictReader(failures.open())) if failures.exists() else []
    lines += [f"\nFailure: {r['Method']} {r['Name']}: {r['Error']} ({r['Occurrences']}x)" for r in failure_rows]
    print("\n".join(lines), flush=True)
    if args.write:
        memory = f"{int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        database = "PostgreSQL" if args.database_url else "SQLite"
        header = (
            f"\n## Load with locust — {dt.date.today().isoformat()} ({database})\n\n"
            f"Machine: {os.cpu_count()} cores, {memory}, {platform.python_implementation()} "
            f"{platform.python_version()}, {database}, one uvicorn process; locust {args.users} members "
            f"(spawned {args.spawn_rate}/s) for {args.duration}, a model that takes {args.upstream_latency} s, "
            f"a daily allowance of {args.daily_limit}. Command:\n\n"
            f"```sh\n.venv/bin/python -m bench.load_run {' '.join(sys.argv[1:])}\n```\n\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
