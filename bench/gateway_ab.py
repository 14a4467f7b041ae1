"""Two versions of haruchat side by side: is a change to the /v1 path faster?

Machine noise between two runs of `bench.gateway_overhead` is larger than
most single changes, so this starts the fake upstream once and a haruchat
server from each of two checkouts (say `git worktree add /tmp/before HEAD~1`),
and sends the same calls to the upstream directly, to the second checkout's
bare pass-through view and to each /v1, in interleaved rounds (concurrency 1 unless told).

    .venv/bin/python -m bench.gateway_ab /tmp/before . [--rounds 8] [--requests 150] [--stream] [--concurrency 1]
        [--database-url postgres://postgres@127.0.0.1:5432/ab]

Both servers run on this checkout's virtualenv; on PostgreSQL they share the
database (same migrations). Prints p50/p95/p99 per path (median of the
rounds), what each version adds to the direct call, and the CPU time its
serving process spent per call (steadier than latency on a noisy machine).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench import gateway_overhead as overhead


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="checkout A (e.g. a git worktree of the commit before)")
    parser.add_argument("after", help="checkout B")
    parser.add_argument("--database-url", default="", help="PostgreSQL for both (default: SQLite each)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=150, help="plain calls per path per round")
    parser.add_argument("--stream", action="store_true", help="time to the first chunk of 10 streams instead")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()

    upstream, upstream_port = overhead.start_upstream()
    servers = {}
    try:
        for name, checkout in (("A", args.before), ("B", args.after)):
            overhead.REPO = Path(checkout).resolve()  # setup_haruchat serves the app from REPO
            settings = argparse.Namespace(database_url=args.database_url)
            servers[name] = overhead.setup_haruchat(settings, upstream_port, tempfile.mkdtemp(prefix="haruchat-ab-"))
        body = {**overhead.BODY, "stream": args.stream}
        overhead.configure_upstream(upstream_port, chunks=64 if args.stream else 8, chunk_delay=0.02 * args.stream)
        key = "first_byte" if args.stream else "total"
        calls = 10 if args.stream else args.requests
        bearer = {name: {"Authorization": f"Bearer {secret}"} for name, (_, _, secret) in servers.items()}
        paths = {
            "direct to the upstream": (upstream_port, "/v1/chat/completions", {}, upstream.pid),
            "B: bare pass-through": (servers["B"][1], "/v1/_bench/passthrough", {}, servers["B"][0].pid),
            f"A: /v1 ({args.before})": (servers["A"][1], "/v1/chat/completions", bearer["A"], servers["A"][0].pid),
            f"B: /v1 ({args.after})": (servers["B"][1], "/v1/chat/completions", bearer["B"], servers["B"][0].pid),
        }
        overhead.warm_up(paths, {**body, "stream": False})
        rounds: dict[str, list[dict]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, (port, path, headers, pid) in paths.items():
                rounds[name].append(overhead.run_load(port, path, headers, body, calls, args.concurrency, pid))
        direct = overhead.summarize(rounds["direct to the upstream"], key)
        what = "time to first chunk" if args.stream else "latency"
        where = args.database_url or "SQLite"
        print(f"{what}, ms, concurrency {args.concurrency}, median of {args.rounds} rounds ({where})")
        for name, results in rounds.items():
            s = overhead.summarize(results, key)
            added = " ".join(f"+{s[q][0] - direct[q][0]:.2f}" for q in ("p50", "p95", "p99"))
            print(
                f"  {name:40} p50 {s['p50'][0]:7.2f}  p95 {s['p95'][0]:7.2f}  p99 {s['p99'][0]:7.2f}  added {added}"
                f"  {s['rps']:.0f} calls/s  CPU {s['cpu']:.2f} ms/call"
            )
    finally:
        for process, *_ in servers.values():
            process.terminate()
        upstream.terminate()


if __name__ == "__main__":
    main()
